package lang

import (
	"reflect"
	"slices"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
)

// unknownValue stands for a variable whose value only the run tells (a
// count, or a value computed from one): compile-time checks see a constant
// of its type.
type unknownValue struct{ t reflect.Type }

// anyType is the type of a value whose type expr cannot tell.
var anyType = reflect.TypeFor[any]()

// node is the constant that stands for the value in a compile-time check.
func (u unknownValue) node() ast.Node {
	if u.t == nil || u.t.Kind() == reflect.Interface {
		return &ast.ConstantNode{Value: nil}
	}
	return &ast.ConstantNode{Value: reflect.Zero(u.t).Interface()}
}

// literal is the expr node of a variable's value: a literal for the
// basic types, so that the language's folding treats it as one
// (src == a with a = "192.0.2.1" folds to an address), else a constant.
func literal(v any) ast.Node {
	switch x := v.(type) {
	case nil:
		return &ast.NilNode{}
	case bool:
		return &ast.BoolNode{Value: x}
	case int:
		return &ast.IntegerNode{Value: x}
	case float64:
		return &ast.FloatNode{Value: x}
	case string:
		return &ast.StringNode{Value: x}
	}
	return &ast.ConstantNode{Value: v}
}

// typeOf is the static type of a value of a variable.
func typeOf(v any) reflect.Type {
	if u, ok := v.(unknownValue); ok {
		return u.t
	}
	if v == nil {
		return anyType
	}
	return reflect.TypeOf(v)
}

// ZeroValue is the value a variable of type t holds before its let runs
// (a let inside an if block that did not run): 0, "", false, nil, ...
func ZeroValue(t reflect.Type) any {
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	return reflect.Zero(t).Interface()
}

// reservedName reports why name cannot be a variable ("" when it can).
func reservedName(name string) string {
	switch {
	case slices.Contains(flowFields, name):
		return "a flow field"
	case slices.Contains(expectFields, name):
		return "an expectation field"
	case slices.Contains(constants, name):
		return "a constant"
	case slices.Contains(builtin.Names, name) || name == fnCIDR:
		return "a function"
	case slices.Contains(clauseWords, name) || slices.Contains(statementKeywords(), name) || name == "else":
		return "a keyword"
	case name == "true" || name == "false" || name == "nil" || name == "and" || name == "or" ||
		name == "not" || name == "in" || name == "matches" || name == "contains" || name == "startsWith" || name == "endsWith":
		return "a word of expr"
	}
	return ""
}
