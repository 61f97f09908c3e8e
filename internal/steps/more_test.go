package steps

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestResultHelpers(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  Result
		want Result
	}{
		{"Requeue goes on", Requeue(time.Minute), Result{RequeueAfter: time.Minute}},
		{"Done stops", Done(0), Result{Stop: true}},
		{"Done with a requeue", Done(time.Second), Result{RequeueAfter: time.Second, Stop: true}},
		{"Merge keeps the earlier requeue and any stop", Requeue(time.Minute).Merge(Done(time.Hour)), Result{RequeueAfter: time.Minute, Stop: true}},
		{"Merge of a requeue and none", Result{}.Merge(Requeue(time.Second)), Result{RequeueAfter: time.Second}},
		{"Merge of two stops", Done(0).Merge(Done(0)), Result{Stop: true}},
		{"a negative requeue is none", Requeue(-time.Second).Merge(Result{}), Result{}},
		{"however it is merged", Result{}.Merge(Requeue(-time.Second)), Result{}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if s := Done(90 * time.Second).String(); s != "requeue after 1m30s, stop true" {
		t.Errorf("String() = %q", s)
	}
}

// TestRunWithADoneContext: a reconcile whose context is already over runs
// no step, and the error names the step that did not run.
func TestRunWithADoneContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	s := &state{}
	res, err := Run(ctx, s, []Step[*state]{step("first", Requeue(time.Second), nil)})
	var se *Error
	if !errors.As(err, &se) || se.Step != "first" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the first step's deadline", err)
	}
	if len(s.ran) != 0 || res != (Result{}) {
		t.Errorf("ran %v with result %v", s.ran, res)
	}
	if _, err := Run(ctx, s, nil); err != nil {
		t.Errorf("no steps with a done context: %v", err)
	}
}

// TestRunErrorWithStop: a failing step's result counts, and nothing after
// it runs, whether or not it also asked to stop.
func TestRunErrorWithStop(t *testing.T) {
	boom := errors.New("boom")
	s := &state{}
	res, err := Run(context.Background(), s, []Step[*state]{step("a", Done(time.Minute), boom), step("b", Result{}, nil)})
	if err == nil || err.Error() != "a: boom" || res != Done(time.Minute) || len(s.ran) != 1 {
		t.Errorf("res %v, err %v, ran %v", res, err, s.ran)
	}
	if got := Names[*state](nil); len(got) != 0 {
		t.Errorf("Names(nil) = %v", got)
	}
}
