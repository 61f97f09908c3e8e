package main

import (
	"context"
	"encoding/json"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/controllers"
)

// observer watches journeys and phases as a kubectl user would and notes,
// per object, when it first became Ready and how many writes it took (each
// write that changes an object is one watch event), and when a phase first
// shows an issue closed.
type observer struct {
	c client.WithWatch
	// ready says whether an object counts as Ready (baseline or cxloop).
	ready func(client.Object) bool

	mu     sync.Mutex
	objs   map[string]*objState
	closes map[closeKey]time.Time // close sent → when
	closed map[closeKey]time.Duration
	// noticed is, per close, how long until its journey showed a new
	// GitHub delivery: the webhook's leg, before cxloop's reconcile.
	noticed map[closeKey]time.Duration
	// lastStatus and changed find what changes in the status of objects,
	// field by field: kind/field -> writes that changed it.
	lastStatus map[string]map[string]string
	changed    map[string]int
	// delivery is each journey's latest recorded delivery ID.
	delivery map[string]string
	onReady  chan struct{}
	budget   map[string]bool // phases seen RateLimited by the write budget
	// waitingWrites counts the phase writes made while only waiting for
	// the write budget (RateLimited=WriteBudget before and after, items
	// unchanged); waitingFields says what those writes changed.
	waitingWrites int
	waitingFields map[string]int
	// afterReady sorts the phase writes made once a phase was Ready: those
	// that changed its items (an attempt, a result) and the others, with
	// the status fields the others changed.
	afterReady afterReadyWrites
}

type afterReadyWrites struct {
	Items       int            `json:"items"`
	Other       int            `json:"other"`
	OtherFields map[string]int `json:"otherFields,omitempty"`
}

type objState struct {
	writes, writesToReady int
	readyAt               time.Time
	// trail is what each write up to Ready said (state, Ready's reason).
	trail []string
}

type closeKey struct {
	ns, journey, phase string
	issue              int
}

func newObserver(c client.WithWatch, ready func(client.Object) bool) *observer {
	return &observer{c: c, ready: ready, objs: map[string]*objState{}, closes: map[closeKey]time.Time{},
		closed: map[closeKey]time.Duration{}, noticed: map[closeKey]time.Duration{}, delivery: map[string]string{}, lastStatus: map[string]map[string]string{}, changed: map[string]int{}, onReady: make(chan struct{}, 1), budget: map[string]bool{},
		waitingFields: map[string]int{}, afterReady: afterReadyWrites{OtherFields: map[string]int{}}}
}

// run watches both kinds until ctx ends.
func (o *observer) run(ctx context.Context) {
	go o.watch(ctx, &cxv1.CustomerJourneyList{})
	go o.watch(ctx, &cxv1.ImprovementPhaseList{})
}

func (o *observer) watch(ctx context.Context, list client.ObjectList) {
	rv := ""
	for ctx.Err() == nil {
		if rv == "" {
			// A list, then a watch from its resource version.
			if err := o.c.List(ctx, list); err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			items, _ := apimeta.ExtractList(list)
			for _, it := range items {
				o.seen(it.(client.Object), false, time.Now())
			}
			rv = list.GetResourceVersion()
		}
		w, err := o.c.Watch(ctx, list, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
		if err != nil {
			rv = ""
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Error:
				rv = "" // too old: start over from a fresh list
			case watch.Added, watch.Modified:
				obj := ev.Object.(client.Object)
				rv = obj.GetResourceVersion()
				o.seen(obj, ev.Type == watch.Modified, time.Now())
			case watch.Bookmark:
				if m, err := apimeta.Accessor(ev.Object); err == nil {
					rv = m.GetResourceVersion()
				}
			}
		}
		w.Stop()
	}
}

func keyOf(obj client.Object) string {
	kind := "journey"
	if _, ok := obj.(*cxv1.ImprovementPhase); ok {
		kind = "phase"
	}
	return kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

func (o *observer) seen(obj client.Object, modified bool, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := keyOf(obj)
	st := o.objs[k]
	if st == nil {
		st = &objState{}
		o.objs[k] = st
	}
	o.statusChanges(k, obj, modified, !st.readyAt.IsZero())
	if modified {
		st.writes++
		if st.readyAt.IsZero() && len(st.trail) < 8 {
			st.trail = append(st.trail, trailOf(obj))
		}
	}
	if st.readyAt.IsZero() && o.ready(obj) {
		st.readyAt, st.writesToReady = at, st.writes
		select {
		case o.onReady <- struct{}{}:
		default:
		}
	}
	ph, ok := obj.(*cxv1.ImprovementPhase)
	if !ok {
		o.deliverySeen(obj, at)
		return
	}
	if c := apimeta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionRateLimited); c != nil && c.Status == metav1.ConditionTrue && c.Reason == cxv1.ReasonWriteBudget {
		o.budget[k] = true
	}
	if len(o.closes) == 0 {
		return
	}
	for _, it := range ph.Status.Items {
		if it.State != cxv1.ItemClosed || it.Issue == 0 {
			continue
		}
		ck := closeKey{ph.Namespace, ph.Spec.JourneyRef.Name, ph.Name, int(it.Issue)}
		if sent, ok := o.closes[ck]; ok {
			o.closed[ck] = at.Sub(sent)
			delete(o.closes, ck)
		}
	}
}

// deliverySeen notes the closes a journey's new webhook delivery announced.
func (o *observer) deliverySeen(cj client.Object, at time.Time) {
	d := cj.GetAnnotations()[controllers.AnnotationGitHubDelivery]
	k := keyOf(cj)
	if d == "" || o.delivery[k] == d {
		return
	}
	o.delivery[k] = d
	for ck, sent := range o.closes {
		if _, ok := o.noticed[ck]; !ok && ck.ns == cj.GetNamespace() && ck.journey == cj.GetName() {
			o.noticed[ck] = at.Sub(sent)
		}
	}
}

// statusChanges counts the top-level status fields (and conditions by
// type) that changed since the object's last event, and the writes of
// phases that only wait for the write budget.
func (o *observer) statusChanges(k string, obj client.Object, modified, wasReady bool) {
	var status any
	switch v := obj.(type) {
	case *cxv1.CustomerJourney:
		status = v.Status
	case *cxv1.ImprovementPhase:
		status = v.Status
	}
	raw, _ := json.Marshal(status)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	now := map[string]string{}
	for f, v := range fields {
		if f != "conditions" {
			now[f] = string(v)
			continue
		}
		var conds []metav1.Condition
		_ = json.Unmarshal(v, &conds)
		for _, c := range conds {
			now["conditions/"+c.Type] = string(c.Status) + c.Reason + c.Message
		}
	}
	kind, _, _ := strings.Cut(k, "/")
	if before, ok := o.lastStatus[k]; ok {
		var fields []string
		for f, v := range now {
			if before[f] != v {
				fields = append(fields, f)
			}
		}
		for f := range before {
			if _, ok := now[f]; !ok {
				fields = append(fields, f)
			}
		}
		for _, f := range fields {
			o.changed[kind+" "+f]++
		}
		if modified && kind == "phase" && wasReady {
			o.sortAfterReady(before, now, fields)
		}
		if modified && kind == "phase" && onlyWaiting(before, now) {
			o.waitingWrites++
			for _, f := range fields {
				o.waitingFields[f]++
			}
		}
	}
	o.lastStatus[k] = now
}

// sortAfterReady counts one write of a phase that was Ready already.
func (o *observer) sortAfterReady(before, now map[string]string, fields []string) {
	if before["items"] != now["items"] {
		o.afterReady.Items++
		return
	}
	o.afterReady.Other++
	for _, f := range fields {
		o.afterReady.OtherFields[f]++
	}
}

// phaseWritesAfterReady is sortAfterReady's tally.
func (o *observer) phaseWritesAfterReady() afterReadyWrites {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.afterReady
	out.OtherFields = maps.Clone(o.afterReady.OtherFields)
	return out
}

// budgetWaiting is how a phase's status fields (as statusChanges keeps
// them) read while it waits for the write budget.
func budgetWaiting(fields map[string]string) bool {
	return strings.HasPrefix(fields["conditions/"+cxv1.ConditionRateLimited], string(metav1.ConditionTrue)+cxv1.ReasonWriteBudget)
}

// onlyWaiting: a phase write between two statuses that both wait for the
// write budget, with the same items (no attempt, no issue opened or
// closed, no item planned): nothing happened but waiting.
func onlyWaiting(before, now map[string]string) bool {
	return budgetWaiting(before) && budgetWaiting(now) && before["items"] == now["items"]
}

// waiting is the count of writes made while only waiting, and the fields
// they changed.
func (o *observer) waiting() (int, map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.waitingFields))
	for f, n := range o.waitingFields {
		out[f] = n
	}
	return o.waitingWrites, out
}

// statusChangeCounts is statusChanges' tally, by kind and field.
func (o *observer) statusChangeCounts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.changed))
	for f, n := range o.changed {
		out[f] = n
	}
	return out
}

// trailOf says what one write of an object left: its state and Ready's reason.
func trailOf(obj client.Object) string {
	var conds []metav1.Condition
	state := ""
	switch v := obj.(type) {
	case *cxv1.CustomerJourney:
		conds = v.Status.Conditions
	case *cxv1.ImprovementPhase:
		conds, state = v.Status.Conditions, string(v.Status.State)+" "
	}
	if c := apimeta.FindStatusCondition(conds, cxv1.ConditionReady); c != nil {
		return state + string(c.Status) + "/" + c.Reason
	}
	return state + "no Ready"
}

// longTrails are the trails of the objects that took more than n writes
// to be Ready, counted by trail.
func (o *observer) longTrails(n int) map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for _, st := range o.objs {
		if !st.readyAt.IsZero() && st.writesToReady > n {
			out[strings.Join(st.trail, " -> ")]++
		}
	}
	return out
}

// expectClose notes that the issue was just closed on GitHub.
func (o *observer) expectClose(k closeKey, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closes[k] = at
}

// waitCloses waits until every expected close shows in its phase's status,
// or ctx ends; it returns the latencies seen for keys, how many are missing,
// and how long each close took to be recorded on its journey by a webhook.
func (o *observer) waitCloses(ctx context.Context, keys []closeKey) (lat []time.Duration, missing int, noticed []time.Duration) {
	for {
		o.mu.Lock()
		lat, noticed = nil, nil
		for _, k := range keys {
			if d, ok := o.closed[k]; ok {
				lat = append(lat, d)
			}
			if d, ok := o.noticed[k]; ok {
				noticed = append(noticed, d)
			}
		}
		o.mu.Unlock()
		if len(lat) == len(keys) || ctx.Err() != nil {
			return lat, len(keys) - len(lat), noticed
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readiness reports how many of the expected objects are Ready, the time
// the last of them became Ready, and the writes each needed to get there.
func (o *observer) readiness(keys []string) (ready int, last time.Time, writes []int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		st := o.objs[k]
		if st == nil || st.readyAt.IsZero() {
			continue
		}
		ready++
		if st.readyAt.After(last) {
			last = st.readyAt
		}
		writes = append(writes, st.writesToReady)
	}
	sort.Ints(writes)
	return ready, last, writes
}

// writesOf is the writes seen on the objects since the observer started.
func (o *observer) writesOf(keys []string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, k := range keys {
		if st := o.objs[k]; st != nil {
			n += st.writes
		}
	}
	return n
}

func (o *observer) budgetHeld() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.budget)
}

// waitReady waits until every key is Ready or ctx ends.
func (o *observer) waitReady(ctx context.Context, keys []string) (time.Time, error) {
	for {
		n, last, _ := o.readiness(keys)
		if n == len(keys) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-o.onReady:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readyCondition: Ready=True for the current generation.
func readyCondition(obj client.Object) bool {
	var conds []metav1.Condition
	switch v := obj.(type) {
	case *cxv1.CustomerJourney:
		conds = v.Status.Conditions
	case *cxv1.ImprovementPhase:
		conds = v.Status.Conditions
	}
	c := apimeta.FindStatusCondition(conds, cxv1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.GetGeneration()
}

// cxloopReady: Ready for the current generation, with the journey scored
// and the phase's plan in its status (its state, and for the active phase
// its items).
func cxloopReady(obj client.Object) bool {
	if !readyCondition(obj) {
		return false
	}
	switch v := obj.(type) {
	case *cxv1.CustomerJourney:
		return v.Status.HealthScore != nil && v.Status.ObservedGeneration == v.Generation
	case *cxv1.ImprovementPhase:
		if v.Status.ObservedGeneration != v.Generation || v.Status.State == "" {
			return false
		}
		return v.Status.State != cxv1.PhaseActive || len(v.Status.Items) > 0
	}
	return false
}

// writeCounts is the writes seen so far, by object.
func (o *observer) writeCounts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.objs))
	for k, st := range o.objs {
		out[k] = st.writes
	}
	return out
}
