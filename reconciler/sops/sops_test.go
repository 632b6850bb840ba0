package sops

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// The fixtures under testdata were encrypted by sops 3.13.3 (sops encrypt --age RECIPIENT
// --input-type binary --output-type json) for the test-only identity of testdata/age-key.txt,
// which protects nothing else: db-password-v1.enc holds "correct horse battery staple\n",
// db-password-v2.enc "a longer and newer password, rotated\n", empty.enc nothing;
// db-password-yaml.enc is v1's content written as YAML (--output-type yaml). The
// several-values.{yaml,json,env,ini}.enc files are two values as sops encrypts a YAML, JSON,
// dotenv or INI file (sops encrypt --age RECIPIENT FILE), a format swarmgate refuses.
func identities(t *testing.T) []age.Identity {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "age-key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := ParseIdentities(f)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecrypt(t *testing.T) {
	ids := identities(t)
	v1 := fixture(t, "db-password-v1.enc")
	for _, tt := range []struct {
		name string
		file []byte
		want string
	}{
		{"v1", v1, "correct horse battery staple\n"},
		{"v2", fixture(t, "db-password-v2.enc"), "a longer and newer password, rotated\n"},
		{"yaml", fixture(t, "db-password-yaml.enc"), "correct horse battery staple\n"},
		{"empty", fixture(t, "empty.enc"), ""},
		{"one key group", []byte(inKeyGroups(t, v1, 1)), "correct horse battery staple\n"},
	} {
		got, err := Decrypt(tt.file, ids)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %d bytes, %v; want %d bytes", tt.name, len(got), err, len(tt.want))
		}
	}
}

// Each way a file may not decrypt says why, and no error holds the value.
func TestDecryptRefuses(t *testing.T) {
	ids := identities(t)
	v1 := string(fixture(t, "db-password-v1.enc"))
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	v1Data := strings.Split(strings.Split(v1, `"data": "`)[1], `"`)[0]
	tests := []struct {
		name, file string
		ids        []age.Identity
		want       string
	}{
		{"plain text", "a password\n", ids, "is not a SOPS file"},
		{"yaml format", string(fixture(t, "several-values.yaml.enc")), ids, "is a SOPS file of several values (the YAML or JSON format), not the binary one (one value, data): encrypt the file as a whole, sops encrypt --input-type binary"},
		{"json format", string(fixture(t, "several-values.json.enc")), ids, "is a SOPS file of several values (the YAML or JSON format)"},
		{"dotenv format", string(fixture(t, "several-values.env.enc")), ids, "is a SOPS file of the dotenv or INI format, not the binary one: encrypt the file as a whole"},
		{"ini format", string(fixture(t, "several-values.ini.enc")), ids, "is a SOPS file of the dotenv or INI format"},
		{"no identity", v1, nil, "no age identity given (SOPS_AGE_KEY_FILE)"},
		{"another identity", v1, []age.Identity{other}, "no age identity given opens it: it is encrypted for age1ryu70hck6xlp39w7mzywsc6wgkfatwqpgp6j8pgetu0jc46fx9lqgyyvwf"},
		{"value altered", strings.Replace(v1, "data:LaMq", "data:LbMq", 1), ids, "data: does not decrypt with the data key (altered?)"},
		{"modified time altered", strings.Replace(v1, `"lastmodified": "2026-12-04T17:10:16Z"`, `"lastmodified": "2026-12-04T17:10:17Z"`, 1), ids, "sops.mac: does not decrypt with the data key (altered?)"},
		{"unencrypted", strings.Replace(v1, v1Data, "correct horse", 1), ids, "data: is not a value SOPS encrypted"},
		{"several key groups", inKeyGroups(t, []byte(v1), 2), ids, "uses several SOPS key groups (Shamir's secret sharing)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt([]byte(tt.file), tt.ids)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %d bytes, error %v; want %q", len(got), err, tt.want)
			}
			if strings.Contains(err.Error(), "horse") {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
}

// The MAC covers the value: a file whose value was swapped for another one the same data key
// encrypted (at the same path) decrypts, but is refused.
func TestDecryptVerifiesMAC(t *testing.T) {
	ids := identities(t)
	v1 := fixture(t, "db-password-v1.enc")
	key := fileDataKey(t, v1, ids)
	swapped := bytes.Replace(v1, []byte(`"data": "ENC[AES256_GCM,data:LaMqShyMdASRbykDTK/Ctnv1UqprQoYSSApxm6w=,iv:DgzZagWTJ3kGEbbr/WOy4UUnVzHFijW1HIzHkJaIaSw=,tag:bC2nROqxRs31mOHlSH7/oQ==,type:str]"`),
		[]byte(`"data": "`+encryptForTest(t, key, "another value\n")+`"`), 1)
	if _, err := Decrypt(swapped, ids); err == nil || !strings.Contains(err.Error(), "sops.mac: does not match the content (altered?)") {
		t.Errorf("a swapped value: %v", err)
	}
}

// The sops library reads age identities from the environment when a key is given none: Decrypt
// uses only the identities it is given, whatever the environment names.
func TestDecryptIgnoresEnvironment(t *testing.T) {
	key := fixture(t, "age-key.txt")
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join("testdata", "age-key.txt"))
	t.Setenv("SOPS_AGE_KEY", string(key))
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	v1 := fixture(t, "db-password-v1.enc")
	for _, ids := range [][]age.Identity{nil, {other}} {
		if got, err := Decrypt(v1, ids); err == nil || !strings.Contains(err.Error(), "no age identity given") {
			t.Errorf("%d identities: got %d bytes, error %v; want no age identity given", len(ids), len(got), err)
		}
	}
}
