package v1alpha1

import (
	"cmp"
	"slices"
)

// SortObjects puts objects in the order of their kinds' convergence (Kinds), then by name.
func SortObjects(objs []Object) {
	order := map[Kind]int{}
	for i, k := range Kinds {
		order[k] = i
	}
	slices.SortStableFunc(objs, func(a, b Object) int {
		return cmp.Or(cmp.Compare(order[a.GetTypeMeta().Kind], order[b.GetTypeMeta().Kind]),
			cmp.Compare(a.GetObjectMeta().Name, b.GetObjectMeta().Name))
	})
}
