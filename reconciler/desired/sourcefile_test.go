package desired

import (
	"slices"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// A service's mount of a declared Secret or Config (of its namespace) mounts the object made from
// its file, named by the content's digest; another name is an existing swarm object. A Secret
// from the store (its digest, no data) names the same secret, which is never written.
func TestBuildSourceFiles(t *testing.T) {
	const manifests = `apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: app, namespace: shop}
spec:
  image: shop/app:2
  secrets: [{name: db}, {name: other}]
  configs: [{name: conf, target: /etc/app.conf}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Secret
metadata: {name: db, namespace: shop}
spec: {file: db.enc}
---
apiVersion: swarmgate.io/v1alpha1
kind: Secret
metadata: {name: other, namespace: elsewhere}
spec: {file: other.enc}
---
apiVersion: swarmgate.io/v1alpha1
kind: Config
metadata: {name: conf, namespace: shop}
spec: {file: app.conf, revisionHistoryLimit: 0}
`
	for _, tt := range []struct {
		name string
		data []byte // nil: from the store, with its digest only
	}{{"read from the source", []byte("s3cret")}, {"from the store", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			digest := v1alpha1.ContentDigest([]byte("s3cret"))
			s := buildWithObjects(t, manifests, func(o v1alpha1.Object) {
				switch o := o.(type) {
				case *v1alpha1.Secret:
					o.Data, o.Digest = tt.data, digest
				case *v1alpha1.Config:
					o.Data, o.Digest = []byte("a = 1"), v1alpha1.ContentDigest([]byte("a = 1"))
				}
			})
			i := slices.IndexFunc(s.Secrets, func(sec Secret) bool { return sec.Owner == "Secret/db" })
			if i < 0 {
				t.Fatalf("no secret of Secret/db in %+v", s.Secrets)
			}
			sec := s.Secrets[i]
			if sec.Name != "shop_db-"+digest || string(sec.Data) != string(tt.data) || sec.Keep != 2 || sec.Labels[inventory.LabelOwner] != "Secret/db" {
				t.Errorf("secret %s, %d bytes, keep %d, labels %v", sec.Name, len(sec.Data), sec.Keep, sec.Labels)
			}
			if len(s.SourceConfigs) != 1 || s.SourceConfigs[0].Keep != 0 || s.SourceConfigs[0].Labels[inventory.LabelRole] != inventory.RoleSourceFile {
				t.Errorf("configs %+v", s.SourceConfigs)
			}
			cs := s.Services[0].Spec.TaskTemplate.ContainerSpec
			var mounts []string
			for _, r := range cs.Secrets {
				mounts = append(mounts, r.SecretName+" at "+r.File.Name)
			}
			for _, r := range cs.Configs {
				mounts = append(mounts, r.ConfigName+" at "+r.File.Name)
			}
			want := "shop_db-" + digest + " at /run/secrets/db, other at /run/secrets/other, " + s.SourceConfigs[0].Name + " at /etc/app.conf"
			if got := strings.Join(mounts, ", "); got != want {
				t.Errorf("mounts %s\nwant   %s", got, want)
			}
		})
	}
}

// buildWithObjects is build with the decoded objects changed first (what the loader fills in).
func buildWithObjects(t *testing.T, yaml string, change func(v1alpha1.Object)) *State {
	t.Helper()
	objs, errs := manifest.Decode("test.yaml", []byte(yaml))
	for _, o := range objs {
		o.Default()
		change(o)
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatal(errs)
	}
	s, err := Build(objs, Options{Instance: "i"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
