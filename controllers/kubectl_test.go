package controllers

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// kubectl runs the machine's kubectl against the test API server, as a
// platform engineer would.
func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	stdout, stderr, err := testEnv.ControlPlane.KubeCtl().Run(args...)
	out, _ := io.ReadAll(stdout)
	errOut, _ := io.ReadAll(stderr)
	if err != nil {
		return string(out) + string(errOut), err
	}
	return string(out), nil
}

// TestKubectlExplainDocumentsEveryField: `kubectl explain` teaches the model.
func TestKubectlExplainDocumentsEveryField(t *testing.T) {
	// The API server publishes a new CRD's OpenAPI schema a moment after it is installed.
	eventually(t).Eventually(func() error {
		_, err := kubectl(t, "explain", "customerjourney.spec.stages.touchpoints")
		return err
	}).Should(Succeed())
	for _, path := range []string{
		"customerjourney.spec", "customerjourney.spec.personas", "customerjourney.spec.stages",
		"customerjourney.spec.stages.touchpoints", "customerjourney.spec.stages.touchpoints.experiences",
		"customerjourney.spec.stages.touchpoints.painPoints", "customerjourney.spec.review", "customerjourney.spec.tracker.github",
		"customerjourney.status", "improvementphase.spec", "improvementphase.spec.selector", "improvementphase.spec.limits",
		"improvementphase.spec.exitCriteria", "improvementphase.status", "improvementphase.status.items",
	} {
		t.Run(path, func(t *testing.T) {
			out, err := kubectl(t, "explain", path)
			if err != nil {
				t.Fatalf("kubectl explain %s: %v\n%s", path, err, out)
			}
			fields := regexp.MustCompile(`(?m)^  ([a-zA-Z]+)\t`).FindAllStringSubmatchIndex(out, -1)
			if len(fields) == 0 {
				t.Fatalf("no fields listed:\n%s", out)
			}
			// Every field is followed by an indented description.
			for i, f := range fields {
				end := len(out)
				if i+1 < len(fields) {
					end = fields[i+1][0]
				}
				name := out[f[2]:f[3]]
				desc := strings.TrimSpace(out[f[1]:end])
				if !describedField(desc) {
					t.Errorf("%s.%s has no description", path, name)
				}
			}
		})
	}
	out, _ := kubectl(t, "explain", "customerjourney.spec.stages.touchpoints")
	for _, field := range []string{"name", "channel", "channelName", "owner", "topTask", "momentOfTruth", "personalize", "experiences", "painPoints"} {
		if !strings.Contains(out, "  "+field+"\t") {
			t.Errorf("kubectl explain customerjourney.spec.stages.touchpoints does not list %s", field)
		}
	}
}

// TestKubectlAppliesTheSamples: the samples apply with kubectl, and
// `kubectl get cx` lists journeys and phases together.
func TestKubectlAppliesTheSamples(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	out, err := kubectl(t, "apply", "-n", ns, "-k", filepath.Join("..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("customerjourney.cx.cxloop.dev/nature-park-visit created"))
	g.Expect(out).To(ContainSubstring("improvementphase.cx.cxloop.dev/nature-park-improve created"))

	out, err = kubectl(t, "get", "cx", "-n", ns)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("customerjourney.cx.cxloop.dev/nature-park-visit"))
	g.Expect(out).To(ContainSubstring("improvementphase.cx.cxloop.dev/nature-park-personalization"))
	for _, col := range []string{"READY", "HEALTH", "TOUCHPOINTS", "QUICK WINS", "NEXT REVIEW", "JOURNEY", "TYPE", "STATE", "PROGRESS", "SCHEDULE"} {
		g.Expect(out).To(ContainSubstring(col))
	}

	// A journey with a score of 7 is refused with a message naming the field.
	bad := strings.NewReplacer("score: 1\n              note: Lovely", "score: 7\n              note: Lovely").Replace(readFile(t, filepath.Join("..", "config", "samples", "cx_v1alpha1_customerjourney.yaml")))
	out, err = kubectlStdin(t, bad, "apply", "-n", ns, "-f", "-")
	g.Expect(err).To(HaveOccurred())
	g.Expect(out).To(ContainSubstring("spec.stages[0].touchpoints[0].experiences[0].score"))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kubectlStdin runs kubectl with input on its standard input.
func kubectlStdin(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	k := testEnv.ControlPlane.KubeCtl()
	if k.Path == "" {
		k.Path = filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	}
	cmd := exec.Command(k.Path, append(append([]string{}, k.Opts...), args...)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// describedField reports whether a field's block in kubectl explain's output
// has a line of prose besides its type and enum.
func describedField(block string) bool {
	for _, line := range strings.Split(block, "\n")[1:] {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "enum:") {
			return true
		}
	}
	return false
}

// TestKubectlWaitForReady: `kubectl wait --for=condition=Ready` works on both kinds.
func TestKubectlWaitForReady(t *testing.T) {
	g := NewWithT(t)
	gh := githubServer(t)
	startCxloop(t)
	ns := namespace(t)
	trackedJourney(t, ns, gh)
	for _, ph := range samplePhases(t, ns) {
		g.Expect(k8sClient.Create(context.Background(), ph)).To(Succeed())
	}
	out, err := kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "--timeout=60s",
		"customerjourney/nature-park-visit", "improvementphase/nature-park-discovery", "improvementphase/nature-park-improve")
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("customerjourney.cx.cxloop.dev/nature-park-visit condition met"))
	g.Expect(out).To(ContainSubstring("improvementphase.cx.cxloop.dev/nature-park-improve condition met"))

	out, err = kubectl(t, "get", "cx", "-n", ns)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(MatchRegexp(`customerjourney.cx.cxloop.dev/nature-park-visit\s+True\s+\d+\s+15\s+4\s+nature-park-discovery`))
	g.Expect(out).To(MatchRegexp(`improvementphase.cx.cxloop.dev/nature-park-discovery\s+nature-park-visit\s+Discovery\s+Active\s+0/2 \(0%\)\s+NotEnoughData\s+True`))
	g.Expect(out).To(MatchRegexp(`improvementphase.cx.cxloop.dev/nature-park-improve\s+nature-park-visit\s+Improve\s+Pending\s+\S+ \S+\s+NotStarted\s+True`))
}

// TestKubectlInstallManifestsAreValid: the install manifests (CRDs, RBAC,
// the manager's Deployment and Service) are accepted by a real API server.
func TestKubectlInstallManifestsAreValid(t *testing.T) {
	g := NewWithT(t)
	if out, err := kubectl(t, "create", "namespace", "cxloop-system"); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v: %s", err, out)
	}
	out, err := kubectl(t, "apply", "--dry-run=server", "--server-side", "--force-conflicts", "-k", filepath.Join("..", "config", "default"))
	g.Expect(err).NotTo(HaveOccurred(), out)
	for _, want := range []string{"deployment.apps/cxloop-controller-manager", "clusterrole.rbac.authorization.k8s.io/cxloop-manager-role",
		"clusterrole.rbac.authorization.k8s.io/cxloop-metrics-reader", "clusterrole.rbac.authorization.k8s.io/cxloop-metrics-auth-role",
		"service/cxloop-controller-manager-metrics-service", "service/cxloop-status-page", "service/cxloop-github-webhook"} {
		g.Expect(out).To(ContainSubstring(want))
	}
}
