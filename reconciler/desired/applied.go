package desired

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Applied is a manifest object as it was applied, kept on the swarm as a swarm config: the swarm
// is the store of applied objects, so any manager knows them all without the manifest files, and
// an apply of one file renders each gateway from every applied Route, not only the file's.
// Configs, not secrets, because they can be read back; an object holds nothing a service spec
// does not show to the same readers.
type Applied struct {
	// Name carries a hash of the data: a changed object is a new config, the old one is removed.
	Name   string
	Owner  string
	Data   []byte
	Labels map[string]string
}

// MaxAppliedSize is the most a swarm config holds (swarmkit's limit for configs and secrets).
const MaxAppliedSize = 500 * 1024

// AppliedData is how an object is kept in the store: its defaulted manifest as JSON (which is
// YAML too, and `docker config inspect --pretty` shows), fast to write and read back for
// thousands of objects.
func AppliedData(o v1alpha1.Object) ([]byte, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v1alpha1.Ref(o), err)
	}
	if len(b) > MaxAppliedSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d bytes a swarm config holds", v1alpha1.Ref(o), len(b), MaxAppliedSize)
	}
	return b, nil
}

// addApplied records the store entry of an object.
func (s *State) addApplied(o v1alpha1.Object) error {
	data, err := AppliedData(o)
	if err != nil {
		return err
	}
	owner := inventory.OwnerOf(o).String()
	labels := map[string]string{inventory.LabelRole: inventory.RoleApplied}
	key := s.Instance + "\x00" + owner + "\x00" + string(data)
	if vip, ok := o.(*v1alpha1.VirtualIP); ok && vip.Spec.Auth != nil {
		// The salt is recorded with the password it was drawn for: a new salt is a new entry.
		labels[inventory.LabelVRRPSalt] = s.vrrpSalts[owner]
		key += "\x00" + s.vrrpSalts[owner]
	}
	name := hashedName("sg-"+s.Instance+"-"+strings.ToLower(string(o.GetTypeMeta().Kind))+"-"+o.GetObjectMeta().Name, []byte(key))
	s.Applied = append(s.Applied, Applied{Name: name, Owner: owner, Data: data, Labels: s.labels(owner, labels)})
	return nil
}
