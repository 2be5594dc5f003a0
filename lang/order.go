package lang

import (
	"reflect"
	"time"

	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// orderKey compiles a sort key. The value is normalized to one of the
// types engine.OrderKey documents, chosen by the expression's static type;
// a key of any other type (a list, labels, a value of mixed types) is a
// compile error.
func (c *compiler) orderKey(e *Expr) (func(*engine.Flow) (any, error), error) {
	return c.flowKey(e, "sort by")
}

// flowKey compiles a sort or group key; verb names its use in errors
// ("sort by", "group by").
func (c *compiler) flowKey(e *Expr, verb string) (func(*engine.Flow) (any, error), error) {
	prog, err := c.compileExpr(e, engine.Flow{})
	if err != nil {
		return nil, err
	}
	t := prog.Node().Type()
	conv := keyConverter(t)
	if conv == nil {
		name := "unknown type"
		if t != nil && t.Kind() != reflect.Interface {
			name = t.String()
		}
		return nil, e.errAt(0, "cannot %s a value of %s (keys are numbers, strings, booleans, addresses, times or durations)", verb, name)
	}
	if get := fieldKey(bareField(prog)); get != nil {
		return func(f *engine.Flow) (any, error) { return get(f), nil }, nil
	}
	var machine vm.VM
	return func(f *engine.Flow) (any, error) {
		out, err := machine.Run(prog, f)
		if err != nil {
			return nil, e.runtimeError(err)
		}
		return conv(out), nil
	}, nil
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	intType      = reflect.TypeFor[int]()
	uintType     = reflect.TypeFor[uint]()
	floatType    = reflect.TypeFor[float64]()
	stringType   = reflect.TypeFor[string]()
	boolType     = reflect.TypeFor[bool]()
)

// keyConverter returns the function that normalizes values of static type
// t into a sort key, nil if t cannot be a sort key.
func keyConverter(t reflect.Type) func(any) any {
	if t == nil {
		return nil
	}
	switch t {
	case addrType, timeType, durationType, intType, uintType, floatType, stringType, boolType:
		return func(v any) any { return v }
	}
	var conv func(reflect.Value) any
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		conv = func(v reflect.Value) any { return int(v.Int()) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		conv = func(v reflect.Value) any { return uint(v.Uint()) }
	case reflect.Float32, reflect.Float64:
		conv = func(v reflect.Value) any { return v.Float() }
	case reflect.String:
		conv = func(v reflect.Value) any { return v.String() }
	case reflect.Bool:
		conv = func(v reflect.Value) any { return v.Bool() }
	default:
		return nil
	}
	return func(v any) any {
		if v == nil {
			return nil
		}
		return conv(reflect.ValueOf(v))
	}
}
