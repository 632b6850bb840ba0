package reconciler

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Input is what a pass is given, and what it means for the store of applied objects (the swarm
// configs that keep every applied manifest object; see desired.Applied).
type Input struct {
	// Objects are manifest objects, defaulted and valid by themselves.
	Objects []v1alpha1.Object
	// All says Objects are every object of the instance (`run`, `apply --prune`): applied objects
	// not among them are deleted. Otherwise (`apply`) they join the applied objects, replacing
	// those of the same kind and name, and the others stay: a gateway is rendered from every
	// applied Route, not only from those of the files given.
	All bool
	// Delete names objects ("Route/x") to delete from the swarm and the store.
	Delete []string
	// Validated says Objects are a whole set LoadManifests accepted: with All and nothing to
	// delete, they are the set the pass converges to, and Plan does not validate them again
	// (`run` passes on every engine event, and validating a large set is most of a pass).
	Validated bool
}

// Stored decodes the store of applied objects. An object kept twice (a pass stopped between
// storing a new version and removing the old) is its newest version. An object being deleted
// that this version cannot read is left out: it can still be deleted.
func Stored(configs []swarm.Config, deleting []string) ([]v1alpha1.Object, error) {
	var (
		objs []v1alpha1.Object
		errs field.ErrorList
	)
	for _, c := range newestEntries(configs) {
		owner := c.Spec.Labels[inventory.LabelOwner]
		o, err := decodeApplied(c.Spec.Data)
		origin := v1alpha1.Origin{File: "swarm config " + c.Spec.Name, Doc: 1, Line: 1}
		switch {
		case err != nil:
			if !slices.Contains(deleting, owner) {
				errs = append(errs, &field.Error{Origin: origin.String(), Object: owner, Detail: "cannot be read (" + err.Error() + "); delete it with swarmgate delete"})
			}
			continue
		case inventory.OwnerOf(o).String() != owner:
			errs = append(errs, &field.Error{Origin: origin.String(), Object: v1alpha1.Ref(o),
				Detail: "is stored under the label of " + owner + "; delete that config"})
			continue
		}
		o.GetObjectMeta().Origin = origin
		o.Default()
		objs = append(objs, o)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("the store of applied objects: %w", errs)
	}
	v1alpha1.SortObjects(objs)
	return objs, nil
}

// newestEntries returns the newest store entry of each owner, newest first.
func newestEntries(configs []swarm.Config) []swarm.Config {
	configs = slices.Clone(configs)
	slices.SortFunc(configs, func(a, b swarm.Config) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.Spec.Name, b.Spec.Name))
	})
	seen := map[string]bool{}
	var out []swarm.Config
	for _, c := range configs {
		if owner := c.Spec.Labels[inventory.LabelOwner]; !seen[owner] {
			seen[owner] = true
			out = append(out, c)
		}
	}
	return out
}

// vrrpSalts returns the salt (inventory.LabelVRRPSalt) of each VirtualIP of objs with a password,
// by owner: its store entry's, when the stored VirtualIP has the same password; otherwise a new
// one, drawn at random.
func vrrpSalts(objs, stored []v1alpha1.Object, entries []swarm.Config) (map[string]string, error) {
	storedAuth := map[string]*v1alpha1.VRRPAuth{}
	for _, o := range stored {
		if vip, ok := o.(*v1alpha1.VirtualIP); ok {
			storedAuth[inventory.OwnerOf(o).String()] = vip.Spec.Auth
		}
	}
	salts := map[string]string{}
	for _, c := range newestEntries(entries) {
		salts[c.Spec.Labels[inventory.LabelOwner]] = c.Spec.Labels[inventory.LabelVRRPSalt]
	}
	out := map[string]string{}
	for _, o := range objs {
		vip, ok := o.(*v1alpha1.VirtualIP)
		if !ok || vip.Spec.Auth == nil {
			continue
		}
		owner := inventory.OwnerOf(o).String()
		if was := storedAuth[owner]; was != nil && was.Password == vip.Spec.Auth.Password && salts[owner] != "" {
			out[owner] = salts[owner]
			continue
		}
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("VirtualIP %s: a salt for its password: %w", vip.Metadata.Name, err)
		}
		out[owner] = hex.EncodeToString(b)
	}
	return out, nil
}

// decodeApplied reads a stored object: JSON that swarmgate wrote (desired.AppliedData), decoded
// strictly, so a field this version does not know is an error, not silently dropped.
func decodeApplied(data []byte) (v1alpha1.Object, error) {
	var head v1alpha1.TypeMeta
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, errors.New("not the JSON swarmgate writes") // the parser's message may quote the data
	}
	if head.APIVersion != v1alpha1.GroupVersion {
		return nil, fmt.Errorf("apiVersion is not %s", v1alpha1.GroupVersion)
	}
	o := v1alpha1.New(head.Kind)
	if o == nil {
		return nil, fmt.Errorf("unknown kind")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, errors.New("not the JSON swarmgate writes")
		}
		return nil, err // unknown fields and type errors name the field, not its value
	}
	return o, nil
}

// merge returns the objects a pass converges to: (unless the input gives them all) the stored
// ones it does not replace, then the input's in their order, less those being deleted. The input
// comes last so that a conflict between a given and a stored object is reported on the given one.
func merge(in Input, stored []v1alpha1.Object) []v1alpha1.Object {
	given := map[string]bool{}
	for _, o := range in.Objects {
		given[inventory.OwnerOf(o).String()] = true
	}
	var out []v1alpha1.Object
	if !in.All {
		for _, o := range stored {
			if !given[inventory.OwnerOf(o).String()] {
				out = append(out, o)
			}
		}
	}
	out = append(out, in.Objects...)
	return slices.DeleteFunc(out, func(o v1alpha1.Object) bool { return slices.Contains(in.Delete, inventory.OwnerOf(o).String()) })
}

// deletable refuses to delete an object others that stay still need: a Gateway Routes attach to,
// a Zone services or virtual IPs are placed by. The errors are the dependents'.
func deletable(objs []v1alpha1.Object, deleting []string) error {
	var errs field.ErrorList
	for _, o := range objs {
		need := func(path string, kind v1alpha1.Kind, name string) {
			if slices.Contains(deleting, inventory.NewOwner(kind, name).String()) {
				errs = append(errs, &field.Error{Origin: o.GetObjectMeta().Origin.String(), Object: v1alpha1.Ref(o), Field: path,
					Detail: fmt.Sprintf("needs %s %s, which is being deleted; delete this %s too, or first", kind, name, o.GetTypeMeta().Kind)})
			}
		}
		switch o := o.(type) {
		case *v1alpha1.Route:
			for i, p := range o.Spec.ParentRefs {
				need(fmt.Sprintf("spec.parentRefs[%d].name", i), v1alpha1.KindGateway, p.Name)
			}
			for i, svc := range o.Spec.Services {
				need(fmt.Sprintf("spec.services[%d].zone", i), v1alpha1.KindZone, svc.Zone)
			}
		case *v1alpha1.GRPCRoute:
			for i, p := range o.Spec.ParentRefs {
				need(fmt.Sprintf("spec.parentRefs[%d].name", i), v1alpha1.KindGateway, p.Name)
			}
		case *v1alpha1.Gateway:
			need("spec.zone", v1alpha1.KindZone, o.Spec.Zone)
		case *v1alpha1.VirtualIP:
			need("spec.zone", v1alpha1.KindZone, o.Spec.Zone)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// validSet validates the objects of a pass together: a Route of one file may conflict with one
// applied before, and a gateway may not be deleted while applied Routes attach to it.
func validSet(objs []v1alpha1.Object) error {
	if errs := agentsFit(objs, contract.MaxAgentConfigSize); len(errs) > 0 {
		return errs
	}
	if errs := validation.Validate(objs); len(errs) > 0 {
		return errs
	}
	if errs := renderable(objs, contract.MaxAgentConfigSize); len(errs) > 0 {
		return errs
	}
	return nil
}

// scope is what a partial apply or a delete may change: the objects given or deleted, and the
// gateways their Routes attach to (before and after), whose configs they are part of; for a
// ReferenceGrant or a policy, every gateway (a grant decides what Routes of any gateway may use). The other
// applied objects are left as they are, as kubectl leaves objects it was not given.
func scope(in Input, stored []v1alpha1.Object) []string {
	owners := slices.Clone(in.Delete)
	touched := map[string]bool{}
	for _, o := range in.Objects {
		owners = append(owners, inventory.OwnerOf(o).String())
	}
	grants := false
	for _, o := range owners {
		touched[o] = true
		kind, _, _ := strings.Cut(o, "/")
		// A policy may target any gateway, or a Route of any: like a grant, it touches them all.
		grants = grants || kind == string(v1alpha1.KindReferenceGrant) || kind == string(v1alpha1.KindBackendTLSPolicy) ||
			v1alpha1.IsPolicyKind(v1alpha1.Kind(kind))
	}
	if grants {
		for _, o := range slices.Concat(stored, in.Objects) {
			if _, ok := o.(*v1alpha1.Gateway); ok {
				owners = append(owners, inventory.OwnerOf(o).String())
			}
		}
	}
	attach := func(o v1alpha1.Object) {
		var parents []v1alpha1.ParentRef
		switch o := o.(type) {
		case *v1alpha1.Route:
			parents = o.Spec.ParentRefs
		case *v1alpha1.GRPCRoute:
			parents = o.Spec.ParentRefs
		}
		for _, p := range parents {
			owners = append(owners, inventory.NewOwner(v1alpha1.KindGateway, p.Name).String())
		}
	}
	for _, o := range in.Objects {
		attach(o)
	}
	for _, o := range stored {
		if touched[inventory.OwnerOf(o).String()] {
			attach(o)
		}
	}
	slices.Sort(owners)
	return slices.Compact(owners)
}
