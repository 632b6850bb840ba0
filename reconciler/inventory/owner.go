package inventory

import (
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Owner names the manifest object a swarm object was made for, as LabelOwner holds it and alerts,
// plans and the store key objects by: "Kind/name" (the object's name, without its namespace, as
// names are unique per kind). Built and read only here.
type Owner string

// OwnerOf is the owner key of a manifest object.
func OwnerOf(o v1alpha1.Object) Owner { return NewOwner(o.GetTypeMeta().Kind, o.GetObjectMeta().Name) }

// NewOwner is the owner key of the object of a kind and name.
func NewOwner(kind v1alpha1.Kind, name string) Owner { return Owner(string(kind) + "/" + name) }

// Kind is the kind of the owner.
func (o Owner) Kind() v1alpha1.Kind {
	kind, _, _ := strings.Cut(string(o), "/")
	return v1alpha1.Kind(kind)
}

// Name is the name of the owner.
func (o Owner) Name() string {
	_, name, _ := strings.Cut(string(o), "/")
	return name
}

// String is the key as labels hold it.
func (o Owner) String() string { return string(o) }
