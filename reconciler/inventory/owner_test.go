package inventory

import (
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func TestOwner(t *testing.T) {
	rt := &v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindRoute}, Metadata: v1alpha1.ObjectMeta{Name: "web", Namespace: "shop"}}
	o := OwnerOf(rt)
	if o.String() != "Route/web" || o.Kind() != v1alpha1.KindRoute || o.Name() != "web" || o != NewOwner(v1alpha1.KindRoute, "web") {
		t.Errorf("owner of a route: %q (%s, %s)", o, o.Kind(), o.Name())
	}
}
