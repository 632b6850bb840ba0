package operator

import (
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// TestKeepReason: objects the source dropped are pruned unless pruning is off or they are more
// than the set share of the instance (a single object is never a mass deletion).
func TestKeepReason(t *testing.T) {
	for _, tc := range []struct {
		name             string
		opts             Options
		removed, applied int
		want             string
	}{
		{"prunes by default", Options{}, 9, 10, ""},
		{"pruning off", Options{KeepRemoved: true}, 1, 10, "pruning is off (--prune=false)"},
		{"within the share", Options{PruneMaxFraction: 0.5}, 5, 10, ""},
		{"over the share", Options{PruneMaxFraction: 0.5}, 6, 10, "pruning 6 of the 10 applied objects at once is over --prune-max-fraction 0.5"},
		{"one object is no mass deletion", Options{PruneMaxFraction: 0.5}, 1, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Controller{opts: tc.opts}
			got := c.keepReason(tc.removed, tc.applied)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRemovedFrom(t *testing.T) {
	route := func(name string) v1alpha1.Object {
		return &v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindRoute}, Metadata: v1alpha1.ObjectMeta{Name: name}}
	}
	got := removedFrom([]v1alpha1.Object{route("web")}, []v1alpha1.Object{route("web"), route("docs"), route("api")})
	if strings.Join(got, ",") != "Route/api,Route/docs" {
		t.Errorf("got %v", got)
	}
}
