package steps

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestEarliest(t *testing.T) {
	for _, tc := range []struct{ a, b, want time.Duration }{
		{0, 0, 0},
		{0, time.Second, time.Second},
		{time.Minute, 0, time.Minute},
		{time.Minute, time.Second, time.Second},
		{time.Second, time.Minute, time.Second},
		{-time.Second, time.Minute, time.Minute},
		{-time.Second, 0, 0},
	} {
		if got := Earliest(tc.a, tc.b); got != tc.want {
			t.Errorf("Earliest(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

type state struct{ ran []string }

func step(name string, res Result, err error) Step[*state] {
	return Step[*state]{Name: name, Run: func(_ context.Context, s *state) (Result, error) {
		s.ran = append(s.ran, name)
		return res, err
	}}
}

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		steps   []Step[*state]
		want    Result
		wantRan []string
		wantErr string
	}{
		{"all run, earliest requeue kept",
			[]Step[*state]{step("a", Requeue(time.Minute), nil), step("b", Result{}, nil), step("c", Requeue(time.Second), nil)},
			Result{RequeueAfter: time.Second}, []string{"a", "b", "c"}, ""},
		{"a stop ends the run",
			[]Step[*state]{step("a", Requeue(time.Minute), nil), step("b", Done(time.Hour), nil), step("c", Requeue(time.Second), nil)},
			Result{RequeueAfter: time.Minute, Stop: true}, []string{"a", "b"}, ""},
		{"an error ends the run and names the step",
			[]Step[*state]{step("a", Requeue(time.Minute), nil), step("b", Requeue(time.Second), boom), step("c", Result{}, nil)},
			Result{RequeueAfter: time.Second}, []string{"a", "b"}, "b: boom"},
		{"no steps", nil, Result{}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &state{}
			got, err := Run(context.Background(), s, tc.steps)
			if got != tc.want {
				t.Errorf("Result = %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(s.ran, tc.wantRan) {
				t.Errorf("ran %v, want %v", s.ran, tc.wantRan)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.wantErr != "":
				var se *Error
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &se) || !errors.Is(err, boom) {
					t.Errorf("err = %v, want %q wrapping boom", err, tc.wantErr)
				}
			}
		})
	}
}

func TestRunStopsWhenTheContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &state{}
	cancelling := Step[*state]{Name: "cancel", Run: func(context.Context, *state) (Result, error) { cancel(); return Result{}, nil }}
	_, err := Run(ctx, s, []Step[*state]{cancelling, step("after", Result{}, nil)})
	if !errors.Is(err, context.Canceled) || len(s.ran) != 0 {
		t.Errorf("err %v, ran %v: want the run stopped before the next step", err, s.ran)
	}
	if got := Names([]Step[*state]{step("x", Result{}, nil), step("y", Result{}, nil)}); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("Names = %v", got)
	}
}
