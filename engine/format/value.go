package format

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// Display renders a value of ctq's language as ctq prints it (print, the
// keys of a grouping): strings as they are, whole numbers without a
// fraction, lists and maps as JSON, the rest as Go prints it.
func Display(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return x
	case float64:
		return number(x)
	case fmt.Stringer:
		return x.String()
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// number renders an aggregate value: whole numbers without a fraction.
func number(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
