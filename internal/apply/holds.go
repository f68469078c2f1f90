package apply

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// holds reports whether live carries every field of want with the same
// value. Fields live has beyond want (defaults, the API server's and other
// managers' fields) do not count: an apply of want would not touch them.
// Both sides go through the same converter, and the API server gives back a
// quantity in the form it was sent, so the operator's own values compare
// equal; a value someone rewrote in another form counts as a change (one
// apply puts it back).
func holds(live client.Object, want map[string]any) (bool, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
	if err != nil {
		return false, err
	}
	return subset(want, m), nil
}

func subset(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			if !subset(wv, h[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return len(w) == 0 && have == nil
		}
		for i := range w {
			if !subset(w[i], h[i]) {
				return false
			}
		}
		return true
	case nil:
		return true
	default:
		return reflect.DeepEqual(want, have)
	}
}
