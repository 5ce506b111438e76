package litellm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// DefaultVersion is the pinned litellm release that `bootstrap litellm` installs.
//
// Why 1.108.6: it is the newest release whose `litellm[proxy]` extra resolves
// from PyPI on Python 3.11 (checked 2026 with `pip index versions` and the
// wheels' METADATA). Newer releases pin companions that are not published:
// 1.110.x requires `litellm-proxy==1.110.x` (no such distribution), 1.109.3
// requires `litellm-proxy-extras==0.4.113` (newest published: 0.4.110), and
// 1.108.8-1.108.14 (8, 10, 13, 14 checked) require `litellm-enterprise==0.1.79.post2/.post3` or
// `litellm-proxy-extras==0.4.110.post1` (not published). Keep ci-setup.sh's
// DEFAULT_VERSION equal to this (TestCISetupPinsDefaultVersion checks it).
const DefaultVersion = "1.108.6"

// BootstrapOptions says where and what to install.
type BootstrapOptions struct {
	// RuntimeDir is the FlowGate runtime folder (.router/runtime). Required.
	RuntimeDir string
	// Version is the litellm release to install. Default DefaultVersion.
	Version string
	// Python is the interpreter used to create the venv. Default "python3".
	Python string
	// VenvDir is the virtual environment folder. Default <RuntimeDir>/litellm-venv.
	// CI points it at a cache folder outside the clone.
	VenvDir string
	// Progress receives short human progress lines: each step, pip's own
	// progress lines (Collecting, Downloading, Installing, ...) and, while pip
	// prints nothing, a "still installing" line every Heartbeat. Default
	// io.Discard.
	Progress io.Writer
	// Heartbeat is how long pip may be silent before Progress gets a "still
	// installing" line. Default 15 s.
	Heartbeat time.Duration
	// LogPath receives pip's and venv's own output (appended).
	// Default <RuntimeDir>/process-logs/bootstrap-litellm.log.
	LogPath string
}

// BootstrapResult describes what Bootstrap left on disk.
type BootstrapResult struct {
	Version string // installed litellm version
	VenvDir string // absolute venv folder
	Runner  string // absolute path of <RuntimeDir>/bin/litellm
	LogPath string // absolute path of the pip log
	Reused  bool   // true when the venv already had Version and pip was not run
}

// RunnerPath is the runner script's location inside a runtime folder.
func RunnerPath(runtimeDir string) string {
	return filepath.Join(runtimeDir, "bin", "litellm")
}

// DefaultVenvDir is the venv folder used when BootstrapOptions.VenvDir is empty.
func DefaultVenvDir(runtimeDir string) string {
	return filepath.Join(runtimeDir, "litellm-venv")
}

func (o *BootstrapOptions) defaults() error {
	if o.RuntimeDir == "" {
		return errors.New("the runtime folder is not set")
	}
	rt, err := filepath.Abs(o.RuntimeDir)
	if err != nil {
		return err
	}
	o.RuntimeDir = rt
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if strings.ContainsAny(o.Version, " \t\n;&|<>=\"'`$\\") {
		return fmt.Errorf("invalid version %q (use a plain release number such as %s)", o.Version, DefaultVersion)
	}
	if o.Python == "" {
		o.Python = "python3"
	}
	if o.VenvDir == "" {
		o.VenvDir = DefaultVenvDir(o.RuntimeDir)
	}
	if o.VenvDir, err = filepath.Abs(o.VenvDir); err != nil {
		return err
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.LogPath == "" {
		o.LogPath = filepath.Join(o.RuntimeDir, "process-logs", "bootstrap-litellm.log")
	}
	if o.LogPath, err = filepath.Abs(o.LogPath); err != nil {
		return err
	}
	return nil
}

// Bootstrap creates (or reuses) a Python virtual environment holding
// litellm[proxy]==Version and writes the runner <RuntimeDir>/bin/litellm.
// A venv that already reports Version is reused without running pip.
// pip's output is appended to LogPath; Progress gets one line per step.
func Bootstrap(ctx context.Context, o BootstrapOptions) (BootstrapResult, error) {
	if err := o.defaults(); err != nil {
		return BootstrapResult{}, err
	}
	res := BootstrapResult{VenvDir: o.VenvDir, Runner: RunnerPath(o.RuntimeDir), LogPath: o.LogPath}
	if err := os.MkdirAll(filepath.Dir(o.LogPath), 0o700); err != nil {
		return res, fmt.Errorf("creating the log folder: %w", err)
	}
	logf, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return res, fmt.Errorf("opening the log: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s bootstrap litellm %s into %s\n", time.Now().UTC().Format(time.RFC3339), o.Version, o.VenvDir)

	if v, err := venvVersion(ctx, o.VenvDir); err == nil && v == o.Version {
		fmt.Fprintf(o.Progress, "litellm %s already installed in %s\n", v, o.VenvDir)
		res.Reused, res.Version = true, v
	} else {
		if err := install(ctx, o, logf); err != nil {
			return res, err
		}
		v, err := venvVersion(ctx, o.VenvDir)
		if err != nil {
			return res, fmt.Errorf("installed, but the venv does not import litellm: %w (see %s)", err, o.LogPath)
		}
		if v != o.Version {
			return res, fmt.Errorf("pip installed litellm %s, want %s (see %s)", v, o.Version, o.LogPath)
		}
		res.Version = v
	}
	if err := WriteRunner(o.RuntimeDir, o.VenvDir); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "runner written: %s\n", res.Runner)
	return res, nil
}

func install(ctx context.Context, o BootstrapOptions, logf io.Writer) error {
	if _, err := os.Stat(venvPython(o.VenvDir)); err != nil {
		fmt.Fprintf(o.Progress, "creating Python virtual environment %s\n", o.VenvDir)
		if err := os.MkdirAll(filepath.Dir(o.VenvDir), 0o755); err != nil {
			return fmt.Errorf("creating the venv's parent folder: %w", err)
		}
		cmd := exec.CommandContext(ctx, o.Python, "-m", "venv", o.VenvDir)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s -m venv failed: %w; on Debian/Ubuntu install the python3-venv package, then retry (details in %s)", o.Python, err, o.LogPath)
		}
	} else {
		fmt.Fprintf(o.Progress, "reusing virtual environment %s\n", o.VenvDir)
	}
	spec := "litellm[proxy]==" + o.Version
	fmt.Fprintf(o.Progress, "installing %s with pip (a few minutes on a fresh venv; pip output in %s)\n", spec, o.LogPath)
	start := time.Now()
	cmd := exec.CommandContext(ctx, venvPython(o.VenvDir), "-m", "pip", "install",
		"--disable-pip-version-check", "--no-input", spec)
	cmd.Env = append(os.Environ(), "PIP_NO_INPUT=1")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	progress := make(chan string)
	done := make(chan struct{})
	go func() { // every pip line goes to the log; its progress lines to Progress
		defer close(progress)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if l, ok := pipProgress(sc.Text()); ok {
				progress <- l
			}
		}
		_, _ = io.Copy(logf, pr)
	}()
	go func() { // one writer of Progress: pip's lines, or a heartbeat when pip is quiet
		defer close(done)
		quiet := time.NewTimer(o.Heartbeat)
		defer quiet.Stop()
		for {
			select {
			case l, ok := <-progress:
				if !ok {
					return
				}
				fmt.Fprintf(o.Progress, "  pip: %s\n", l)
			case <-quiet.C:
				fmt.Fprintf(o.Progress, "  still installing (%s elapsed; pip output in %s)\n", time.Since(start).Round(time.Second), o.LogPath)
			}
			quiet.Reset(o.Heartbeat)
		}
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return fmt.Errorf("pip install %s failed: %w; read %s, check that PyPI is reachable, then retry", spec, err, o.LogPath)
	}
	fmt.Fprintf(o.Progress, "installed %s in %s\n", spec, time.Since(start).Round(time.Second))
	return nil
}

// pipLinePrefixes are the lines of pip's output that show it moving on.
var pipLinePrefixes = []string{"Collecting ", "Downloading ", "Building wheel", "Installing collected packages", "Successfully installed", "ERROR:"}

// pipProgress returns the progress line to show for one line of pip output,
// capped at 160 bytes, and whether it is one.
func pipProgress(line string) (string, bool) {
	l := strings.TrimSpace(line)
	for _, p := range pipLinePrefixes {
		if strings.HasPrefix(l, p) {
			if len(l) > 160 {
				l = l[:157] + "..."
			}
			return l, true
		}
	}
	return "", false
}

func venvPython(venv string) string { return filepath.Join(venv, "bin", "python") }

// venvVersion asks the venv's interpreter which litellm it has.
func venvVersion(ctx context.Context, venv string) (string, error) {
	py := venvPython(venv)
	if _, err := os.Stat(py); err != nil {
		return "", fmt.Errorf("no Python in %s", venv)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c",
		`import importlib.metadata as m; print(m.version("litellm"))`).Output()
	if err != nil {
		return "", fmt.Errorf("litellm is not installed in %s", venv)
	}
	return strings.TrimSpace(string(out)), nil
}

// runnerVenvMarker prefixes the runner line that names the venv; Status reads it.
const runnerVenvMarker = "venv="

// WriteRunner writes the 0755 runner <runtimeDir>/bin/litellm that runs the
// venv's litellm with all arguments passed through. A venv inside the runtime
// folder is referenced relative to the runner, so the runtime folder can move;
// a venv elsewhere (CI cache) is referenced by absolute path. The console
// script is run through the venv's own python, so a moved venv whose script
// shebangs point at the old place still works.
func WriteRunner(runtimeDir, venvDir string) error {
	rt, err := filepath.Abs(runtimeDir)
	if err != nil {
		return fmt.Errorf("writing litellm runner: %w", err)
	}
	venv, err := filepath.Abs(venvDir)
	if err != nil {
		return fmt.Errorf("writing litellm runner: %w", err)
	}
	venvExpr := runtime.ShellQuote(venv)
	if rel, err := filepath.Rel(filepath.Join(rt, "bin"), venv); err == nil && !strings.HasPrefix(rel, ".."+string(filepath.Separator)+"..") && rel != ".." && rel != "." {
		// bin/../litellm-venv: relative to the runner's own folder.
		venvExpr = `"$here"/` + runtime.ShellQuote(filepath.ToSlash(rel))
	}
	script := "#!/bin/sh\n" +
		"# FlowGate LiteLLM runner, written by `flowgate bootstrap litellm`. Do not edit:\n" +
		"# bootstrap rewrites it. It runs the venv's litellm with the given arguments.\n" +
		"set -eu\n" +
		"here=$(CDPATH= cd -- \"$(dirname -- \"$0\")\" && pwd)\n" +
		runnerVenvMarker + venvExpr + "\n" +
		"if [ ! -x \"$venv/bin/python\" ]; then\n" +
		"  echo \"litellm runner: no Python virtual environment at $venv; run: flowgate bootstrap litellm\" >&2\n" +
		"  exit 127\n" +
		"fi\n" +
		"exec \"$venv/bin/python\" \"$venv/bin/litellm\" \"$@\"\n"
	path := RunnerPath(rt)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing litellm runner: %w", err)
	}
	return runtime.WriteFileAtomic(path, []byte(script), 0o755)
}

// runnerVenv returns the venv folder the runner in runtimeDir points at.
func runnerVenv(runtimeDir string) (string, error) {
	path := RunnerPath(runtimeDir)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("runner %s is missing; run: flowgate bootstrap litellm", path)
		}
		return "", fmt.Errorf("reading runner: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		v, ok := strings.CutPrefix(line, runnerVenvMarker)
		if !ok {
			continue
		}
		rel := false
		if r, ok := strings.CutPrefix(v, `"$here"/`); ok {
			v, rel = r, true
		}
		v = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'"), `'\''`, "'")
		if rel {
			v = filepath.Join(filepath.Dir(path), filepath.FromSlash(v))
		}
		return filepath.Clean(v), nil
	}
	return "", fmt.Errorf("runner %s was not written by flowgate (no venv line); run: flowgate bootstrap litellm", path)
}

// StatusInfo is what `bootstrap status` shows for LiteLLM.
type StatusInfo struct {
	Installed bool   `json:"installed"`
	Version   string `json:"version,omitempty"`
	VenvDir   string `json:"venv_dir,omitempty"`
	Runner    string `json:"runner"`
	// Reason says why Installed is false.
	Reason string `json:"reason,omitempty"`
}

// Status reports the litellm version reachable through <runtimeDir>/bin/litellm,
// or why there is none. It runs the venv's Python once (about a second).
func Status(runtimeDir string) StatusInfo {
	st := StatusInfo{Runner: RunnerPath(runtimeDir)}
	venv, err := runnerVenv(runtimeDir)
	if err != nil {
		st.Reason = err.Error()
		return st
	}
	st.VenvDir = venv
	v, err := venvVersion(context.Background(), venv)
	if err != nil {
		st.Reason = err.Error() + "; run: flowgate bootstrap litellm"
		return st
	}
	st.Installed, st.Version = true, v
	return st
}

// CheckResult is one doctor line.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Check runs doctor's LiteLLM checks: the runner exists, is executable, and
// `runner --version` succeeds (this imports litellm: a few seconds). The
// returned slice always has one entry per check that could run.
func Check(ctx context.Context, runtimeDir string) []CheckResult {
	path := RunnerPath(runtimeDir)
	fi, err := os.Stat(path)
	if err != nil {
		return []CheckResult{{Name: "litellm_runner", Detail: fmt.Sprintf("%s is missing; run: flowgate bootstrap litellm", path)}}
	}
	out := []CheckResult{{Name: "litellm_runner", OK: true, Detail: path}}
	if fi.Mode().Perm()&0o111 == 0 || !fi.Mode().IsRegular() {
		return append(out, CheckResult{Name: "litellm_runner_executable", Detail: fmt.Sprintf("%s is not an executable file (mode %v); run: flowgate bootstrap litellm", path, fi.Mode())})
	}
	out = append(out, CheckResult{Name: "litellm_runner_executable", OK: true, Detail: fi.Mode().Perm().String()})
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = append(os.Environ(), OfflineEnv()...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return append(out, CheckResult{Name: "litellm_runs", Detail: fmt.Sprintf("%s --version failed: %v: %s; run: flowgate bootstrap litellm", path, err, lastLine(string(b)))})
	}
	return append(out, CheckResult{Name: "litellm_runs", OK: true, Detail: lastLine(string(b))})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
