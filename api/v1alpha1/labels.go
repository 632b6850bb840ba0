package v1alpha1

// Labels swarmgate puts on the swarm objects it creates. They are the inventory: there is no other
// store, and swarmgate updates or deletes only objects that carry them with its instance.
const (
	// LabelManagedBy marks an object as created by swarmgate; its value is ManagedByValue.
	LabelManagedBy = LabelPrefix + "managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "swarmgate"
	// LabelInstance names the swarmgate instance (one per repository of manifests) that owns the
	// object, so two instances on one swarm never prune each other's objects.
	LabelInstance = LabelPrefix + "instance"
	// LabelOwner names the manifest object the swarm object was made for: "Route/dmzhttp".
	LabelOwner = LabelPrefix + "owner"
	// LabelSpecHash is a hash of the spec swarmgate asked for, for telling what changed since.
	LabelSpecHash = LabelPrefix + "spec-hash"
	// LabelRevision is the source revision (a git commit) of the pass that last wrote the object.
	// It is not compared: a new revision rewrites only objects whose spec changed.
	LabelRevision = LabelPrefix + "revision"
	// LabelOwnedNodeLabels, suffixed with "." and the instance, lists on a node the label keys
	// that instance set (comma-separated), so it removes only those.
	LabelOwnedNodeLabels = LabelPrefix + "owned-labels"
)
