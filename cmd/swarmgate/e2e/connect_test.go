package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshd runs Debian's OpenSSH server on loopback for the test, letting in one key, and returns its
// port and a PATH on which `ssh` uses that key and trusts that server (OpenSSH reads its config
// from the passwd home, not $HOME, so a wrapper passes -F). The docker CLI on the same machine
// answers `docker system dial-stdio` on the host engine's socket.
func sshd(t *testing.T) (port int, path string) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no /usr/sbin/sshd: hack/deps.sh installs openssh-server")
		}
		t.Skip("no /usr/sbin/sshd (apt-get install openssh-server)")
	}
	dir := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "host_key"))
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "client_key"))
	pub, err := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("authorized_keys", string(pub), 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	config := write("sshd_config", fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s/host_key
AuthorizedKeysFile %s/authorized_keys
PidFile %s/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
`, port, dir, dir, dir), 0o600)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // its privilege separation directory
		t.Fatal(err)
	}
	server := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", config)
	var log strings.Builder
	server.Stderr = &log
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
		if t.Failed() {
			t.Logf("sshd:\n%s", log.String())
		}
	})
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	write("known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub), 0o600)
	clientConfig := write("ssh_config", fmt.Sprintf("IdentityFile %s/client_key\nUserKnownHostsFile %s/known_hosts\nStrictHostKeyChecking yes\nBatchMode yes\n", dir, dir), 0o600)
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	write("bin/ssh", "#!/bin/sh\nexec /usr/bin/ssh -F "+clientConfig+" \"$@\"\n", 0o755)
	eventually(t, 10*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err
	})
	return port, bin + ":" + os.Getenv("PATH")
}

// TestEngineFromSSHAndContext: the engine is chosen as the docker CLI chooses it: DOCKER_HOST
// ssh://user@host (ssh to sshd on loopback, `docker system dial-stdio` there), and --context.
func TestEngineFromSSHAndContext(t *testing.T) {
	const instance = "e2e-ssh"
	cleanup(t, instance)
	port, path := sshd(t)
	manifests := writeManifests(t, "ssh.yaml", `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: ssh-gw}
spec:
  replicas: 0
  listeners: [{name: http, port: 18192, publishMode: Host}]
  network: {name: e2e_ssh}
`)
	over := func(env []string, args ...string) result {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), append([]string{"PATH=" + path}, env...)...)
		return runCommand(t, cmd)
	}
	sshHost := fmt.Sprintf("ssh://root@127.0.0.1:%d", port)
	r := over([]string{"DOCKER_HOST=" + sshHost}, "apply", "-f", manifests, "--instance", instance)
	if r.code != 0 || !strings.Contains(r.stdout, "service/ssh-gw created") {
		t.Fatalf("apply over DOCKER_HOST=%s: exit %d\n%s\n%s", sshHost, r.code, r.stdout, r.stderr)
	}

	// A docker CLI context naming the same ssh endpoint; DOCKER_HOST points elsewhere and loses.
	config := t.TempDir()
	create := exec.Command("docker", "context", "create", "sg-e2e-ssh", "--docker", "host="+sshHost)
	create.Env = append(os.Environ(), "DOCKER_CONFIG="+config)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("docker context create: %v\n%s", err, out)
	}
	r = over([]string{"DOCKER_CONFIG=" + config, "DOCKER_HOST=unix:///nonexistent.sock"}, "get", "gateway", "ssh-gw", "-o", "name", "--context", "sg-e2e-ssh", "--instance", instance)
	if r.code != 0 || r.stdout != "gateway.swarmgate.io/ssh-gw\n" {
		t.Errorf("get --context: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// `docker context use` makes it the default when DOCKER_HOST is unset.
	use := exec.Command("docker", "context", "use", "sg-e2e-ssh")
	use.Env = append(os.Environ(), "DOCKER_CONFIG="+config)
	if out, err := use.CombinedOutput(); err != nil {
		t.Fatalf("docker context use: %v\n%s", err, out)
	}
	cmd := exec.Command(binary, "delete", "gateway", "ssh-gw", "--instance", instance)
	env := []string{"PATH=" + path, "DOCKER_CONFIG=" + config}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "DOCKER_HOST=") && !strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	if r := runCommand(t, cmd); r.code != 0 || !strings.Contains(r.stdout, "service/ssh-gw deleted") {
		t.Errorf("delete with the current context: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
