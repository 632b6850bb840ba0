package sourcefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/sops"
)

// The SOPS fixture and its test-only identity are reconciler/sops's (its test says what they
// hold).
const fixtures = "../sops/testdata"

func identities(t *testing.T) []age.Identity {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "age-key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := sops.ParseIdentities(f)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestRead(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "manifests")
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := os.ReadFile(filepath.Join(fixtures, "db-password-v1.enc"))
	if err != nil {
		t.Fatal(err)
	}
	write("db.enc", enc)
	write("conf/app.conf", []byte("level = debug\n"))
	write("big.conf", make([]byte, v1alpha1.MaxSourceFileData+1))
	write("huge.conf", make([]byte, v1alpha1.MaxSourceFileSize+1))
	if err := os.WriteFile(filepath.Join(root, "outside.conf"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside.conf", filepath.Join(dir, "link.conf")); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "all.yaml")
	secret := func(file string) v1alpha1.Object {
		return &v1alpha1.Secret{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindSecret}, Metadata: v1alpha1.ObjectMeta{Name: "db", Origin: v1alpha1.Origin{File: manifest, Doc: 1}},
			Spec: v1alpha1.SourceFileSpec{File: file}}
	}
	config := func(file, origin string) v1alpha1.Object {
		return &v1alpha1.Config{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindConfig}, Metadata: v1alpha1.ObjectMeta{Name: "app", Origin: v1alpha1.Origin{File: origin, Doc: 1}},
			Spec: v1alpha1.SourceFileSpec{File: file}}
	}
	ids := identities(t)
	for _, tt := range []struct {
		name string
		obj  v1alpha1.Object
		ids  []age.Identity
		want string // the error, or the content read
	}{
		{"secret decrypted", secret("db.enc"), ids, "correct horse battery staple\n"},
		{"config in a subdirectory", config("conf/app.conf", manifest), nil, "level = debug\n"},
		{"secret without identity", secret("db.enc"), nil, "Secret db: spec.file: " + dir + "/db.enc cannot be decrypted: no age identity given (SOPS_AGE_KEY_FILE)"},
		{"secret not encrypted", secret("conf/app.conf"), ids, "spec.file: " + dir + "/conf/app.conf is not a SOPS file"},
		{"missing", config("nope.conf", manifest), nil, "Config app: spec.file: " + dir + "/nope.conf cannot be read"},
		{"link to outside", config("link.conf", manifest), nil, "spec.file: " + dir + "/link.conf is a symbolic link to outside the manifest's directory"},
		{"more than swarm takes", config("big.conf", manifest), nil, "spec.file: " + dir + "/big.conf holds more than 500 KiB, the most swarm takes in a secret or config"},
		{"larger than read", config("huge.conf", manifest), nil, "huge.conf: is larger than 1 MiB"},
		{"from standard input", config("conf/app.conf", "<stdin>"), nil, "spec.file: a manifest read from standard input has no directory to read conf/app.conf from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := Read([]v1alpha1.Object{tt.obj}, tt.ids)
			var data []byte
			var digest, wantDigest string
			switch o := tt.obj.(type) {
			case *v1alpha1.Secret:
				// Named by the encrypted file, never by the value.
				data, digest = o.Data, o.Digest
				file, _ := os.ReadFile(filepath.Join(filepath.Dir(o.Metadata.Origin.File), o.Spec.File))
				wantDigest = v1alpha1.ContentDigest(file)
			case *v1alpha1.Config:
				data, digest = o.Data, o.Digest
				wantDigest = v1alpha1.ContentDigest(data)
			}
			if len(errs) == 0 {
				if string(data) != tt.want || digest != wantDigest || digest == v1alpha1.ContentDigest([]byte(tt.want)) && tt.obj.GetTypeMeta().Kind == v1alpha1.KindSecret {
					t.Errorf("read %d bytes, digest %s; want %d bytes", len(data), digest, len(tt.want))
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Errorf("got %v\nwant %s", errs, tt.want)
			}
			if strings.Contains(errs.ToError().Error(), "horse") {
				t.Errorf("an error shows the value: %v", errs)
			}
		})
	}
}
