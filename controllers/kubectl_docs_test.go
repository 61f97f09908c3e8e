package controllers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestShortNamesAreOurs: every name kubectl accepts for our kinds (plural,
// singular, short names, the category) belongs to no other resource the API
// server serves, so `kubectl get journey` never lists CronJobs (as `cj` did).
func TestShortNamesAreOurs(t *testing.T) {
	g := NewWithT(t)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	_, lists, err := dc.ServerGroupsAndResources()
	g.Expect(err).NotTo(HaveOccurred())

	ours := map[string]string{}   // name → our kind
	others := map[string]string{} // name → group/resource of every other resource
	for _, l := range lists {
		gv := strings.Split(l.GroupVersion, "/")[0]
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") { // a subresource
				continue
			}
			names := append([]string{r.Name, r.SingularName}, r.ShortNames...)
			if l.GroupVersion == cxv1.GroupVersion.String() {
				for _, n := range append(names, r.Categories...) {
					ours[n] = r.Kind
				}
				continue
			}
			for _, n := range append(names, r.Categories...) {
				if n != "" {
					others[n] = gv + "/" + r.Name
				}
			}
		}
	}
	for _, want := range []string{"customerjourneys", "customerjourney", "cxj", "journey", "journeys",
		"improvementphases", "improvementphase", "cxp", "phase", "phases", "cx"} {
		if _, ok := ours[want]; !ok {
			t.Errorf("%s is not a name of our kinds in discovery (ours: %v)", want, ours)
		}
	}
	for n, kind := range ours {
		if other, ok := others[n]; ok {
			t.Errorf("%q names our %s and also %s: kubectl resolves it to the built-in", n, kind, other)
		}
	}
	t.Logf("%d names of our kinds checked against %d names of %d other API groups/versions", len(ours), len(others), len(lists)-1)

	// kubectl resolves each of them to our kind.
	ns := namespace(t)
	ctx := context.Background()
	g.Expect(k8sClient.Create(ctx, sampleJourney(t, ns))).To(Succeed())
	for _, ph := range samplePhases(t, ns) {
		g.Expect(k8sClient.Create(ctx, ph)).To(Succeed())
	}
	for n, kind := range ours {
		if n == "cx" {
			continue // the category: TestKubectlAppliesTheSamples
		}
		out, err := kubectl(t, "get", n, "-n", ns, "-o", "name")
		g.Expect(err).NotTo(HaveOccurred(), "kubectl get %s: %s", n, out)
		want := map[string]string{"CustomerJourney": "customerjourney.cx.cxloop.dev/", "ImprovementPhase": "improvementphase.cx.cxloop.dev/"}[kind]
		lines := strings.Fields(out)
		g.Expect(lines).NotTo(BeEmpty(), "kubectl get %s lists nothing", n)
		for _, l := range lines {
			g.Expect(l).To(HavePrefix(want), "kubectl get %s", n)
		}
	}
}

// tableRows splits kubectl's table output into rows of column → value,
// cutting each line where the header's columns start.
func tableRows(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := lines[0]
	starts := []int{}
	for _, m := range regexp.MustCompile(`\S+( \S+)*`).FindAllStringIndex(header, -1) {
		starts = append(starts, m[0])
	}
	var rows []map[string]string
	for _, l := range lines[1:] {
		row := map[string]string{}
		for i, s := range starts {
			end := len(l)
			if i+1 < len(starts) && starts[i+1] < len(l) {
				end = starts[i+1]
			}
			if s >= len(l) {
				row[strings.TrimSpace(header[s:])] = ""
				continue
			}
			name := header[s:]
			if i+1 < len(starts) {
				name = header[s:starts[i+1]]
			}
			row[strings.TrimSpace(name)] = strings.TrimSpace(l[s:end])
		}
		rows = append(rows, row)
	}
	return rows
}

// readyJourney runs cxloop on the sample journey and its phases in ns,
// tracked on a local GitHub under the credentials Secret secretName, and
// waits until all are Ready.
func readyJourney(t *testing.T, ns, secretName string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	gh := githubServer(t)
	startCxloop(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName, Labels: credentialsLabels()}, StringData: map[string]string{"token": ghToken}}
	g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	cj.Spec.Tracker.GitHub.SecretRef.Name = secretName
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	for _, ph := range samplePhases(t, ns) {
		g.Expect(k8sClient.Create(ctx, ph)).To(Succeed())
	}
	out, err := kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "--timeout=90s", "customerjourneys,improvementphases", "--all")
	g.Expect(err).NotTo(HaveOccurred(), out)
}

// TestKubectlGetIsReadable: every column of `kubectl get` (and -o wide)
// reads as a value: no <invalid> (a future time in a date column), and no
// <none> where the sample has a value.
func TestKubectlGetIsReadable(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	readyJourney(t, ns, "github-credentials")

	out, err := kubectl(t, "get", "customerjourneys", "-n", ns, "-o", "wide")
	g.Expect(err).NotTo(HaveOccurred(), out)
	t.Logf("kubectl get customerjourneys -o wide:\n%s", out)
	g.Expect(out).NotTo(ContainSubstring("<invalid>"))
	rows := tableRows(t, out)
	g.Expect(rows).To(HaveLen(1))
	for _, col := range []string{"NAME", "READY", "HEALTH", "TOUCHPOINTS", "QUICK WINS", "PHASE", "NEXT REVIEW", "STATUS", "AGE"} {
		v, ok := rows[0][col]
		g.Expect(ok).To(BeTrue(), "column %s missing:\n%s", col, out)
		g.Expect(v).NotTo(Or(BeEmpty(), Equal("<none>")), "column %s:\n%s", col, out)
	}
	// The next review is in the future, and readable as a time.
	next, err := time.Parse(time.RFC3339, rows[0]["NEXT REVIEW"])
	g.Expect(err).NotTo(HaveOccurred(), "NEXT REVIEW %q", rows[0]["NEXT REVIEW"])
	g.Expect(next).To(BeTemporally(">", time.Now()))

	out, err = kubectl(t, "get", "improvementphases", "-n", ns, "-o", "wide")
	g.Expect(err).NotTo(HaveOccurred(), out)
	t.Logf("kubectl get improvementphases -o wide:\n%s", out)
	g.Expect(out).NotTo(ContainSubstring("<invalid>"))
	rows = tableRows(t, out)
	g.Expect(rows).To(HaveLen(4))
	for _, row := range rows {
		for _, col := range []string{"NAME", "JOURNEY", "TYPE", "STATE", "PROGRESS", "SCHEDULE", "READY", "STATUS", "AGE"} {
			g.Expect(row[col]).NotTo(Or(BeEmpty(), Equal("<none>")), "%s column %s:\n%s", row["NAME"], col, out)
		}
	}
	// The sample's improve phase has an owner and a deadline.
	for _, row := range rows {
		if row["NAME"] == "nature-park-improve" {
			g.Expect(row["OWNER"]).NotTo(Equal("<none>"), out)
			g.Expect(row["DEADLINE"]).To(MatchRegexp(`^\d{4}-\d{2}-\d{2}`), out)
		}
	}
}

// docCommand is a kubectl command printed by the README, docs/ or the demo.
type docCommand struct {
	// source is the file and line.
	source string
	// block groups the commands of one code block, run in order.
	block string
	// line is the command as a shell line, placeholders filled in.
	line string
}

// kubectlVerb starts a kubectl command (rather than the word in prose).
const kubectlVerb = `kubectl (?:-n \S+ )?(?:get|describe|edit|apply|create|label|annotate|wait|events|logs|explain|port-forward|delete|auth)\b`

// bareVerb is prose naming a verb in inline code ("`kubectl apply` merges
// lists by name"), not a command.
var bareVerb = regexp.MustCompile(`^kubectl [a-z-]+$`)

// placeholders fills in what the docs leave to the reader.
var placeholders = strings.NewReplacer(
	"<token with issues: write>", ghToken, "<secret>", "webhook-secret", "<new>", "new-secret", "<old>", "old-secret",
	"<name>", "nature-park-visit", "<service-account>", "status-reader",
)

// docCommands finds the kubectl commands in the Markdown files (in sh code
// blocks, continued lines joined, and in inline code) and in the demo's
// output strings.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join("..", "README.md")}, files...)
	start := regexp.MustCompile(`^` + kubectlVerb)
	var out []docCommand
	for _, f := range files {
		text := readFile(t, f)
		rel := strings.TrimPrefix(f, "../")
		// Code blocks.
		fence := regexp.MustCompile("(?ms)^[ \t]*```(\\w*)\n(.*?)^[ \t]*```")
		for bi, m := range fence.FindAllStringSubmatchIndex(text, -1) {
			lang := text[m[2]:m[3]]
			lineNo := strings.Count(text[:m[0]], "\n") + 1
			if lang == "sh" || lang == "bash" || lang == "shell" {
				body := strings.ReplaceAll(text[m[4]:m[5]], "\\\n", " ")
				for _, l := range strings.Split(body, "\n") {
					l = strings.Join(strings.Fields(l), " ")
					if start.MatchString(l) {
						out = append(out, docCommand{source: rel + ":" + itoa(lineNo), block: rel + "#" + itoa(bi), line: placeholders.Replace(l)})
					}
				}
			}
		}
		prose := fence.ReplaceAllStringFunc(text, func(s string) string { return strings.Repeat("\n", strings.Count(s, "\n")) })
		// Inline code: the span, or the command inside $( ) in it.
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatchIndex(prose, -1) {
			span := strings.Join(strings.Fields(prose[m[2]:m[3]]), " ")
			lineNo := strings.Count(prose[:m[0]], "\n") + 1
			if inner := regexp.MustCompile(`\$\((` + kubectlVerb + `[^)]*)\)`).FindStringSubmatch(span); inner != nil {
				span = inner[1]
			}
			if start.MatchString(span) && !bareVerb.MatchString(span) {
				src := rel + ":" + itoa(lineNo)
				out = append(out, docCommand{source: src, block: src, line: placeholders.Replace(span)})
			}
		}
	}
	// The demo's output strings: %s is the demo's namespace after -n, else its journey.
	demo, err := filepath.Glob(filepath.Join("..", "cmd", "demo", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range demo {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		text := readFile(t, f)
		for _, m := range regexp.MustCompile(kubectlVerb+`[^)",;:]*`).FindAllStringIndex(text, -1) {
			l := strings.TrimSpace(text[m[0]:m[1]])
			l = strings.ReplaceAll(l, "-n %s", "-n "+demoNamespacePlaceholder)
			l = strings.ReplaceAll(l, "%s", "nature-park-visit")
			src := strings.TrimPrefix(f, "../") + ":" + itoa(strings.Count(text[:m[0]], "\n")+1)
			out = append(out, docCommand{source: src, block: src, line: l})
		}
	}
	return out
}

// demoNamespacePlaceholder stands for the demo's namespace until the test
// knows its own.
const demoNamespacePlaceholder = "DEMO_NAMESPACE"

// notRunHere are the printed commands the test does not run, and why.
var notRunHere = map[string]string{
	"kubectl -n cxloop-system logs deploy/cxloop-controller-manager":       "envtest has no kubelet: the Deployment never gets a pod whose logs kubectl could read",
	"kubectl -n cxloop-system port-forward svc/cxloop-status-page 8090:80": "envtest has no kubelet: there is no pod behind the Service to forward to",
	"kubectl apply --server-side -f dist/install.yaml":                     "dist/install.yaml is written by make build-installer; TestKubectlInstallManifestsAreValid applies its source (config/default) and make chart-test applies the file itself",
	"kubectl -n cxloop-system get lease cxloop.cx.cxloop.dev -o yaml":      "the Lease exists while a manager with leader election runs; the test checks the name is cmd/main.go's LeaderElectionID",
	"kubectl apply --server-side":                                          "prose naming the verb and its flag (docs/model.md), not a command",
	"kubectl create token":                                                 "prose naming the verb; docs/leadership.md has the whole command, which runs",
	"kubectl auth can-i --as=…":                                            "prose naming the verb; test/chart's TestManagerRBAC asks every line as the manager",
	"kubectl wait --for=condition=Ready":                                   "prose naming the flag; the whole commands beside it run",
}

// TestKubectlCommandsInTheDocsWork runs every kubectl command the README,
// docs/ and the demo print, against a running cxloop with the sample
// journey and phases, as a reader would paste them: in a shell, with the
// reader's namespace as the kubeconfig's, placeholders filled in. What a
// command creates in another namespace, or cluster-wide, is deleted after
// its code block; in the reader's namespace it stays, as it would for the
// reader: the README creates the Secret github-credentials that the sample
// journey it applies later names.
func TestKubectlCommandsInTheDocsWork(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := namespace(t)
	// The reader's own Secret (github-credentials, as the docs call it) is
	// created by the README's commands; until then the journey uses another.
	readyJourney(t, ns, "test-credentials")
	for _, extra := range []string{"visitor-experience", "team-a", "cxloop-system"} {
		if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: extra}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	g.Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "status-reader"}})).To(Succeed())

	// A kubeconfig whose context is the reader's namespace, and a working
	// directory with the repository's config/ and the App key the docs name.
	user, err := testEnv.AddUser(envtest.User{Name: "docs-reader", Groups: []string{"system:masters"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	raw, err := user.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	kc, err := clientcmd.Load(raw)
	g.Expect(err).NotTo(HaveOccurred())
	kc.Contexts[kc.CurrentContext].Namespace = ns
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	g.Expect(clientcmd.WriteToFile(*kc, kubeconfig)).To(Succeed())
	work := filepath.Join(dir, "work")
	g.Expect(os.Mkdir(work, 0o755)).To(Succeed())
	root, err := filepath.Abs("..")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.Symlink(filepath.Join(root, "config"), filepath.Join(work, "config"))).To(Succeed())
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	g.Expect(err).NotTo(HaveOccurred())
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	g.Expect(os.WriteFile(filepath.Join(work, "cxloop.2026-01-01.private-key.pem"), keyPEM, 0o600)).To(Succeed())
	kubectlPath := testEnv.ControlPlane.KubeCtl().Path
	if kubectlPath == "" {
		kubectlPath = filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	}
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "KUBE_EDITOR=true", "EDITOR=true",
		"PATH="+filepath.Dir(kubectlPath)+string(os.PathListSeparator)+os.Getenv("PATH"))

	run := func(line string) (string, error) {
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	cmds := docCommands(t)
	g.Expect(len(cmds)).To(BeNumerically(">=", 30), "commands found: %v", cmds)
	skipped := map[string]bool{}
	ran, notRun := 0, 0
	created := regexp.MustCompile(`(?m)^(\S+/\S+) created$`)
	nsFlag := regexp.MustCompile(`(?:-n|--namespace)[ =](\S+)`)
	var cleanups []string
	flush := func() {
		for _, c := range cleanups {
			if out, err := run(c); err != nil {
				t.Errorf("cleaning up (%s): %v\n%s", c, err, out)
			}
		}
		cleanups = nil
	}
	for i, c := range cmds {
		if i > 0 && cmds[i-1].block != c.block {
			flush()
		}
		if reason, ok := notRunHere[c.line]; ok {
			skipped[c.line] = true
			notRun++
			t.Logf("%s: not run: %s (%s)", c.source, c.line, reason)
			continue
		}
		line := strings.ReplaceAll(c.line, demoNamespacePlaceholder, ns)
		out, err := run(line)
		if err != nil {
			t.Errorf("%s: %s\n%v: %s", c.source, line, err, out)
			continue
		}
		if strings.Contains(out, "No resources found") {
			t.Errorf("%s: %s finds nothing:\n%s", c.source, line, out)
		}
		ran++
		target := ns
		if m := nsFlag.FindStringSubmatch(line); m != nil {
			target = m[1]
		}
		for _, m := range created.FindAllStringSubmatch(out, -1) {
			if target == ns && !strings.HasPrefix(m[1], "clusterrolebinding") {
				continue
			}
			cleanups = append(cleanups, "kubectl delete -n "+target+" "+m[1])
		}
	}
	flush()
	t.Logf("%d printed kubectl commands: %d ran and succeeded, %d not run (listed with their reasons)", len(cmds), ran, notRun)
	// The list stays true: every command on it is still printed somewhere.
	for line := range notRunHere {
		if !skipped[line] {
			t.Errorf("notRunHere lists %q, which no doc prints any more", line)
		}
	}
	// The Lease command names the main manager's Lease (shards name their own).
	g.Expect(LeaderElectionID).To(Equal("cxloop.cx.cxloop.dev"))
	g.Expect(readFile(t, filepath.Join("..", "cmd", "main.go"))).To(ContainSubstring(`controllers.LeaderElectionID`))
	// The commands the issue found broken are among those that ran.
	lines := []string{}
	for _, c := range cmds {
		lines = append(lines, c.line)
	}
	g.Expect(lines).To(ContainElements("kubectl get journeys", "kubectl edit journey nature-park-visit", "kubectl get journeys,phases -A -o wide"))
	g.Expect(slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "kubectl create token status-reader") })).To(BeTrue())
}
