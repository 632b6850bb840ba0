package field

import "testing"

func TestPathString(t *testing.T) {
	tests := []struct {
		path *Path
		want string
	}{
		{nil, ""},
		{NewPath("spec"), "spec"},
		{NewPath("spec", "hostnames").Index(0), "spec.hostnames[0]"},
		{NewPath("metadata").Child("labels").Key("app"), "metadata.labels[app]"},
		{NewPath("spec").Child("rules").Index(2).Child("matches").Index(1).Child("path", "value"), "spec.rules[2].matches[1].path.value"},
	}
	for _, tt := range tests {
		if got := tt.path.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	e := Invalid(NewPath("spec", "hostnames").Index(0), "is not a valid hostname")
	ErrorList{e}.WithObject(func(f string) string { return "manifests/app.yaml:14 doc 2 (" + f + ")" }, "Route dmzhttp")
	want := `manifests/app.yaml:14 doc 2 (spec.hostnames[0]): Route dmzhttp: spec.hostnames[0]: is not a valid hostname`
	if got := e.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := NotSupported(NewPath("kind"), "Gateway", "Route").Detail; got != `is not supported; supported: "Gateway", "Route"` {
		t.Errorf("not supported: %s", got)
	}
	if ErrorList(nil).ToError() != nil {
		t.Error("empty list must be a nil error")
	}
}
