package controllers

// The manager's rights beyond its two reconcilers' (see their markers). Each
// is checked, allowed and denied, by test/chart's RBAC table, against the
// chart and the installer.
//
// Journeys' credentials Secrets are read through the manager's cache, which
// keeps only Secrets labelled cx.cxloop.dev/credentials=github (CacheOptions).
// Its informer lists and watches; it never gets. RBAC cannot select by label:
// the label narrows what the manager holds and reads, while the namespaced
// install (--watch-namespaces, the chart's watchNamespaces) narrows, in
// RBAC, where Secrets may be listed at all.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=list;watch
//
// The manager's own Secrets, in its own namespace: the GitHub webhook secret
// (watched, so that a rotation takes effect at once) and Prometheus's
// credentials.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch,namespace=system
//
// The status page and its JSON API authenticate callers (TokenReview) and
// show each the namespaces where they may list customerjourneys
// (SubjectAccessReview). Both are cluster-scoped, also in the namespaced
// install.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
