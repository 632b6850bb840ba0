package stackimport

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	yaml "go.yaml.in/yaml/v3"

	"github.com/swarmgate/swarmgate/api/manifest"
)

// compose-go reads the files a stack file names (include, env_file, label_file, extends) itself,
// without bounds, and its ${VARIABLE} substitution takes time that grows faster than the text.
// So before compose-go sees a stack, every file it names is checked by the reading rules of
// manifests (regular files, size caps) and the substitutions are counted.

// maxInterpolations bounds the '$' of one file: a real stack has tens; 4,000 substitutions in one
// value took compose-go 5 s, 20,000 a minute.
const maxInterpolations = 1000

// maxIncludeDepth bounds files including files.
const maxIncludeDepth = 10

// checkStack checks a stack file and the files it names, recursively, before compose-go reads
// them: a FIFO or a device would hang it, /dev/zero or a huge file would take all memory.
func checkStack(file string, content []byte) error {
	total := int64(0)
	return checkFile(file, content, 0, &total)
}

func checkFile(file string, content []byte, depth int, total *int64) error {
	if *total += int64(len(content)); *total > manifest.MaxTotalSize {
		return fmt.Errorf("%s: the stack's files exceed %d MiB in all", file, manifest.MaxTotalSize>>20)
	}
	if n := strings.Count(string(content), "$"); n > maxInterpolations {
		return fmt.Errorf("%s: %d '$' (variable substitutions), over the %d import takes", file, n, maxInterpolations)
	}
	var model map[string]any
	if yaml.Unmarshal(content, &model) != nil {
		return nil // compose-go says what is wrong with it
	}
	if err := checkPorts(file, model); err != nil {
		return err
	}
	dir := filepath.Dir(file)
	refs, err := references(model)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, ref := range refs {
		if strings.Contains(ref.path, "$") {
			return fmt.Errorf("%s: %s names a file with a ${variable}; import reads only files named outright", file, ref.field)
		}
		path := ref.path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := manifest.ReadRegularFile(path, manifest.MaxFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue // compose-go says so, unless the file is optional (required: false)
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", file, ref.field, err)
		}
		if !ref.stack {
			if *total += int64(len(data)); *total > manifest.MaxTotalSize {
				return fmt.Errorf("%s: the stack's files exceed %d MiB in all", file, manifest.MaxTotalSize>>20)
			}
			continue
		}
		if depth >= maxIncludeDepth {
			return fmt.Errorf("%s: %s: files include files over %d deep", file, ref.field, maxIncludeDepth)
		}
		if err := checkFile(path, data, depth+1, total); err != nil {
			return err
		}
	}
	return nil
}

// reference is a file a stack file names: field says where, stack whether it is a stack file.
type reference struct {
	field, path string
	stack       bool
}

// references lists the files a stack file's model names: include's paths and env files,
// services' env_file, label_file and extends.file.
func references(model map[string]any) ([]reference, error) {
	var refs []reference
	add := func(field string, v any, stack bool) error {
		paths, err := pathList(v)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		for _, p := range paths {
			refs = append(refs, reference{field: field, path: p, stack: stack})
		}
		return nil
	}
	includes, _ := model["include"].([]any)
	for i, inc := range includes {
		field := fmt.Sprintf("include[%d]", i)
		m, ok := inc.(map[string]any)
		if !ok {
			if err := add(field, inc, true); err != nil {
				return nil, err
			}
			continue
		}
		if err := add(field+".path", m["path"], true); err != nil {
			return nil, err
		}
		if err := add(field+".env_file", m["env_file"], false); err != nil {
			return nil, err
		}
	}
	services, _ := model["services"].(map[string]any)
	for name, s := range services {
		svc, _ := s.(map[string]any)
		for _, key := range []string{"env_file", "label_file"} {
			if err := add(fmt.Sprintf("services.%s.%s", name, key), svc[key], false); err != nil {
				return nil, err
			}
		}
		if ext, ok := svc["extends"].(map[string]any); ok {
			if err := add(fmt.Sprintf("services.%s.extends.file", name), ext["file"], true); err != nil {
				return nil, err
			}
		}
	}
	return refs, nil
}

// pathList reads a file reference: a path, a list of them, or of {path: ...} maps.
func pathList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case map[string]any:
		return pathList(v["path"])
	case []any:
		var out []string
		for _, e := range v {
			paths, err := pathList(e)
			if err != nil {
				return nil, err
			}
			out = append(out, paths...)
		}
		return out, nil
	}
	return nil, errors.New("not a path or a list of paths")
}

// checkPorts refuses a port number over 65535 in a service's ports: compose-go keeps ports in 32
// bits, so 4294967376 would become 80.
func checkPorts(file string, model map[string]any) error {
	services, _ := model["services"].(map[string]any)
	for name, s := range services {
		svc, _ := s.(map[string]any)
		ports, _ := svc["ports"].([]any)
		for i, p := range ports {
			m, _ := p.(map[string]any)
			for _, key := range []string{"target", "published"} {
				if n, ok := m[key].(int); ok && (n < 0 || n > math.MaxUint16) {
					return fmt.Errorf("%s: service %s: ports[%d].%s: not a port (0 to 65535)", file, name, i, key)
				}
			}
		}
	}
	return nil
}

// checkRanges refuses numbers of a service that swarmgate keeps in 32 bits and that do not fit,
// rather than truncate them (replicas: 4294967297 would become 1).
func checkRanges(svc types.ServiceConfig) error {
	check := func(field string, n int64) error {
		if n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("service %s: %s: out of range (0 to %d)", svc.Name, field, math.MaxInt32)
		}
		return nil
	}
	var errs []error
	if h := svc.HealthCheck; h != nil && h.Retries != nil {
		errs = append(errs, check("healthcheck.retries", clamp(*h.Retries)))
	}
	if d := svc.Deploy; d != nil {
		if d.Replicas != nil {
			errs = append(errs, check("deploy.replicas", int64(*d.Replicas)))
		}
		if u := d.UpdateConfig; u != nil && u.Parallelism != nil {
			errs = append(errs, check("deploy.update_config.parallelism", clamp(*u.Parallelism)))
		}
		if r := d.RestartPolicy; r != nil && r.MaxAttempts != nil {
			errs = append(errs, check("deploy.restart_policy.max_attempts", clamp(*r.MaxAttempts)))
		}
		errs = append(errs, check("deploy.placement.max_replicas_per_node", clamp(d.Placement.MaxReplicas)))
	}
	return errors.Join(errs...)
}

// clamp is an unsigned count as a signed one, saturating: anything over MaxInt64 is out of range
// anyway.
func clamp(n uint64) int64 {
	return int64(min(n, math.MaxInt64))
}
