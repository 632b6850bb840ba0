package planner

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

const sourceFiles = `apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: app, namespace: shop}
spec:
  image: shop/app:2
  secrets: [{name: db, target: db-password}]
  configs: [{name: conf, target: /etc/app.conf}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Secret
metadata: {name: db, namespace: shop}
spec: {file: db.enc%s}
---
apiVersion: swarmgate.io/v1alpha1
kind: Config
metadata: {name: conf, namespace: shop}
spec: {file: app.conf}
`

// buildSourceFiles is the desired state of sourceFiles with the files' content given (as the
// loader reads it), the Secret's revision history set by history (", revisionHistoryLimit: N").
func buildSourceFiles(t *testing.T, secret, config, history string) *desired.State {
	t.Helper()
	objs, errs := manifest.Decode("test.yaml", []byte(fmt.Sprintf(sourceFiles, history)))
	for _, o := range objs {
		o.Default()
		switch o := o.(type) {
		case *v1alpha1.Secret:
			o.Data, o.Digest = []byte(secret), v1alpha1.ContentDigest([]byte(secret))
		case *v1alpha1.Config:
			o.Data, o.Digest = []byte(config), v1alpha1.ContentDigest([]byte(config))
		}
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatal(errs)
	}
	d, err := desired.Build(objs, desired.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A changed file is a new secret (or config), named by its content, and an update of the
// service that mounts it; the value is in no change, and the old one is kept as history.
func TestPlanSourceFileRotation(t *testing.T) {
	const oldValue, newValue = "hunter2-old-value", "hunter2-new-value"
	old := buildSourceFiles(t, oldValue, "a = 1", "")
	changed := buildSourceFiles(t, newValue, "a = 2", "")
	p, err := New(changed, applied(old), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The store's configs (the applied objects) aside.
	p.Actions = slices.DeleteFunc(p.Actions, func(a Action) bool { return a.Kind == KindConfig && strings.HasPrefix(a.Name, "sg-test-") })
	oldSecret, newSecret := "shop_db-"+v1alpha1.ContentDigest([]byte(oldValue)), "shop_db-"+v1alpha1.ContentDigest([]byte(newValue))
	oldConfig, newConfig := "shop_conf-"+v1alpha1.ContentDigest([]byte("a = 1")), "shop_conf-"+v1alpha1.ContentDigest([]byte("a = 2"))
	got := format(p)
	want := fmt.Sprintf(`create secret/%[2]s (Secret/db)
  replaces: %[1]q -> %[2]q
create config/%[4]s (Config/conf)
update service/shop_app (Service/app)
  configs: "%[3]s at /etc/app.conf uid=0 gid=0 mode=444" -> "%[4]s at /etc/app.conf uid=0 gid=0 mode=444"
  labels.swarmgate.io/spec-hash: %[5]q -> %[6]q
  secrets: "%[1]s at /run/secrets/db-password uid=0 gid=0 mode=444" -> "%[2]s at /run/secrets/db-password uid=0 gid=0 mode=444"
`, oldSecret, newSecret, oldConfig, newConfig, old.Services[0].Spec.Labels[inventory.LabelSpecHash], changed.Services[0].Spec.Labels[inventory.LabelSpecHash])
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	for _, a := range p.Actions {
		if strings.Contains(a.String(), "hunter2") || strings.Contains(fmt.Sprint(a.Changes), "hunter2") {
			t.Errorf("a value shows in %s %v", a, a.Changes)
		}
	}
	if s := p.Actions[0].String(); !strings.HasSuffix(s, " rotated") {
		t.Errorf("the new secret reads %q, want it rotated", s)
	}
}

// The earlier secrets of a Secret no longer mounted are kept, the newest first, as many as its
// revision history; the others are deleted after the services are updated.
func TestPlanSourceFileRetention(t *testing.T) {
	versions := []string{"v1", "v2", "v3"}
	for _, tt := range []struct {
		history string
		deleted []string
	}{
		{"", []string{"v1"}},
		{", revisionHistoryLimit: 0", []string{"v1", "v2", "v3"}},
		{", revisionHistoryLimit: 3", nil},
	} {
		t.Run(tt.history, func(t *testing.T) {
			d := buildSourceFiles(t, "v4", "c", tt.history)
			snap := applied(buildSourceFiles(t, "v3", "c", tt.history))
			owner := snap.Secrets[0].Spec.Labels
			snap.Secrets = nil
			for i, v := range versions {
				name := "shop_db-" + v1alpha1.ContentDigest([]byte(v))
				snap.Secrets = append(snap.Secrets, swarm.Secret{ID: "sec-" + v, Meta: swarm.Meta{CreatedAt: time.Unix(int64(i), 0)},
					Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: owner}}})
			}
			p, err := New(d, snap, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var deleted []string
			for _, a := range p.Actions {
				if a.Op == Delete && a.Kind == KindSecret {
					deleted = append(deleted, strings.TrimPrefix(a.ID, "sec-"))
				}
			}
			slices.Sort(deleted)
			if !slices.Equal(deleted, tt.deleted) {
				t.Errorf("deleted %v, want %v\n%s", deleted, tt.deleted, format(p))
			}
		})
	}
}
