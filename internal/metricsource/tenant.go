package metricsource

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// DefaultTenantLabel is the label a shared cluster's series carry their
// namespace in: Prometheus Operator's ServiceMonitors and PodMonitors, and
// the usual kubernetes_sd relabelling, set it on every target they scrape.
const DefaultTenantLabel = "namespace"

// promql parses with every syntax a current Prometheus may accept, so that
// enforcement refuses no query the server would have run; one the server
// refuses still comes back as BadQuery.
var promql = parser.NewParser(parser.Options{
	EnableExperimentalFunctions:  true,
	ExperimentalDurationExpr:     true,
	EnableExtendedRangeSelectors: true,
	EnableBinopFillModifiers:     true,
})

// EnforceLabel rewrites query so that every series it selects carries
// label="value": each vector selector (also inside range selectors,
// subqueries and function arguments) gets that equality matcher, and any
// matcher the query's author wrote on label is dropped in its favour, as
// prom-label-proxy's injectproxy does. The rewritten query is printed by
// Prometheus's own printer. A query that does not parse is an error.
func EnforceLabel(query, label, value string) (string, error) {
	expr, err := promql.ParseExpr(query)
	if err != nil {
		return "", err
	}
	enforced, err := labels.NewMatcher(labels.MatchEqual, label, value)
	if err != nil {
		return "", err
	}
	var refused error
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		// info() looks up target_info series of its own, outside the
		// selectors written in the query, where no matcher can be added
		// for its one-argument form.
		if call, ok := node.(*parser.Call); ok && call.Func != nil && call.Func.Name == "info" && refused == nil {
			refused = fmt.Errorf("info() is not allowed in a measure's query: it reads series outside the query's own selectors, which cxloop cannot keep to the namespace")
		}
		if vs, ok := node.(*parser.VectorSelector); ok {
			kept := make([]*labels.Matcher, 0, len(vs.LabelMatchers)+1)
			for _, m := range vs.LabelMatchers {
				if m.Name != label {
					kept = append(kept, m)
				}
			}
			vs.LabelMatchers = append(kept, enforced)
		}
		return nil
	})
	if refused != nil {
		return "", refused
	}
	return expr.String(), nil
}

// scope is the query sent for namespace: query itself when no tenant label
// is enforced, else query with the namespace's matcher on every selector.
func (p *Prometheus) scope(namespace, query string) (string, error) {
	if p.tenantLabel == "" {
		return query, nil
	}
	if namespace == "" {
		// Fail closed: a caller that forgot the namespace must not read every tenant's series.
		return "", &Error{Kind: BadQuery, Message: fmt.Sprintf("no namespace to enforce %s= on the query", p.tenantLabel)}
	}
	q, err := EnforceLabel(query, p.tenantLabel, namespace)
	if err != nil {
		return "", &Error{Kind: BadQuery, Message: "the query does not parse as PromQL: " + err.Error(), Err: err}
	}
	return q, nil
}
