package paramstest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/testutil/paramstest"
)

// fakeParams are valid when A > 0.
type fakeParams struct{ A, B int }

func (p fakeParams) validate() error {
	if p.A <= 0 {
		return errors.New("a must be positive")
	}
	return nil
}

func marshal(p fakeParams) []byte {
	bz, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return bz
}

var (
	errUnauthorized  = errors.New("unauthorized")
	errInvalidParams = errors.New("invalid params")
)

// fakeUpdateResponse stands for a module's MsgUpdateParamsResponse.
type fakeUpdateResponse struct{}

// fakeKeeper is an UpdateParams handler over one stored value; bug names a
// defect RunUpdateParams must catch ("" is the correct handler).
type fakeKeeper struct {
	bug    string
	stored []byte
}

func (k *fakeKeeper) update(authority string, p fakeParams) (*fakeUpdateResponse, error) {
	if authority != keepertest.Authority() && k.bug != "ignores authority" {
		if k.bug == "untyped unauthorized error" {
			return nil, errors.New("unauthorized")
		}
		if k.bug == "writes before the authority check" {
			k.stored = marshal(p)
		}
		return nil, fmt.Errorf("%w: %s", errUnauthorized, authority)
	}
	if err := p.validate(); err != nil && k.bug != "skips validation" {
		if k.bug == "writes before validation" {
			k.stored = marshal(p)
		}
		if k.bug == "both errors" {
			return nil, errors.Join(errInvalidParams, errUnauthorized)
		}
		return nil, fmt.Errorf("%w: %w", errInvalidParams, err)
	}
	if k.bug != "drops the update" {
		k.stored = marshal(p)
	}
	if k.bug == "nil response" {
		return nil, nil
	}
	return &fakeUpdateResponse{}, nil
}

func (k *fakeKeeper) get() (fakeParams, error) {
	var p fakeParams
	if k.stored == nil {
		return p, errors.New("not found")
	}
	err := json.Unmarshal(k.stored, &p)
	return p, err
}

func fakeSuite(bug string) paramstest.UpdateParamsSuite[fakeParams] {
	def := fakeParams{A: 1}
	return paramstest.UpdateParamsSuite[fakeParams]{
		New: func(*testing.T) paramstest.UpdateParamsEnv[fakeParams] {
			k := &fakeKeeper{bug: bug, stored: marshal(def)}
			return paramstest.UpdateParamsEnv[fakeParams]{
				Update: func(authority string, p fakeParams) (any, error) { return k.update(authority, p) },
				Get:    k.get,
				Query: func() (fakeParams, error) {
					if bug == "stale query" {
						return def, nil
					}
					return k.get()
				},
				Raw: func() []byte { return k.stored },
			}
		},
		Marshal:          marshal,
		Validate:         fakeParams.validate,
		Default:          def,
		Changed:          fakeParams{A: 2, B: 3},
		Invalid:          map[string]fakeParams{"zero a": {B: 3}, "negative a": {A: -1}},
		ErrUnauthorized:  errUnauthorized,
		ErrInvalidParams: errInvalidParams,
	}
}

const bugEnv = "PARAMSTEST_UPDATE_PARAMS_BUG"

func TestRunUpdateParamsPassesACorrectHandler(t *testing.T) {
	if bug := os.Getenv(bugEnv); bug != "" {
		// A child process started by TestRunUpdateParamsCatchesBugs.
		paramstest.RunUpdateParams(t, fakeSuite(bug))
		return
	}
	paramstest.RunUpdateParams(t, fakeSuite(""))
}

// TestRunUpdateParamsCatchesBugs runs the suite on handlers with one defect
// each, in a child test process, and requires it to fail.
func TestRunUpdateParamsCatchesBugs(t *testing.T) {
	if os.Getenv(bugEnv) != "" {
		t.Skip("child process")
	}
	for _, bug := range []string{
		"ignores authority",
		"untyped unauthorized error",
		"writes before the authority check",
		"skips validation",
		"writes before validation",
		"both errors",
		"drops the update",
		"nil response",
		"stale query",
	} {
		t.Run(bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRunUpdateParamsPassesACorrectHandler$", "-test.count=1")
			cmd.Env = append(os.Environ(), bugEnv+"="+bug)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "the suite must fail on a handler that %s:\n%s", bug, out)
			require.Contains(t, string(out), "--- FAIL: TestRunUpdateParamsPassesACorrectHandler/")
		})
	}
}
