package engine

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"
)

// compareValues orders two sort-key values of the same type: -1, 0 or +1.
// Numbers of different Go kinds compare by value. Values of different
// types are an error.
func compareValues(a, b any) (int, error) {
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			if ia, ok := a.(int); ok {
				if ib, ok := b.(int); ok {
					return cmp.Compare(ia, ib), nil
				}
			}
			return cmp.Compare(fa, fb), nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y), nil
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, nil
			case !x:
				return -1, nil
			}
			return 1, nil
		}
	case netip.Addr:
		if y, ok := b.(netip.Addr); ok {
			return x.Compare(y), nil
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), nil
		}
	case nil:
		if b == nil {
			return 0, nil
		}
		return -1, nil
	}
	if b == nil {
		return 1, nil
	}
	return 0, fmt.Errorf("cannot compare %T with %T", a, b)
}

// toFloat converts the numeric kinds a sort key can have.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case time.Duration:
		return float64(x), true
	}
	return 0, false
}
