package desired

import (
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// sourceFiles are the swarm names of the secrets and configs made from source files, by the
// qualified name of their Secret or Config: what a service's mount of that name mounts.
type sourceFiles struct {
	secrets, configs map[string]string
}

// addSourceSecret records the secret a Secret is made from. One given without its data (an
// applied object from the store) names the secret its digest made, which exists.
func (s *State) addSourceSecret(sec *v1alpha1.Secret) {
	owner := inventory.OwnerOf(sec).String()
	name := digestName(sec.Metadata.QualifiedName(), sec.Digest)
	s.sourceFiles.secrets[sec.Metadata.QualifiedName()] = name
	s.Secrets = append(s.Secrets, Secret{Name: name, Owner: owner, Data: sec.Data, Labels: s.labels(owner, sec.Metadata.Labels),
		Keep: int(*sec.Spec.RevisionHistoryLimit)})
}

// addSourceConfig records the config a Config is made from, as addSourceSecret a secret.
func (s *State) addSourceConfig(c *v1alpha1.Config) {
	owner := inventory.OwnerOf(c).String()
	name := digestName(c.Metadata.QualifiedName(), c.Digest)
	s.sourceFiles.configs[c.Metadata.QualifiedName()] = name
	labels := s.labels(owner, c.Metadata.Labels)
	labels[inventory.LabelRole] = inventory.RoleSourceFile
	s.SourceConfigs = append(s.SourceConfigs, Config{Name: name, Owner: owner, Data: c.Data, Labels: labels,
		Keep: int(*c.Spec.RevisionHistoryLimit)})
}

// mounted is the swarm name a service's mount of name in namespace mounts: the object made from
// a source file when a Secret or Config of that name is declared there, the user's otherwise.
func mounted(declared map[string]string, namespace, name string) string {
	if n, ok := declared[v1alpha1.StackName(namespace, name)]; ok {
		return n
	}
	return name
}
