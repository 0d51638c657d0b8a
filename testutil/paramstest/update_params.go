package paramstest

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/testutil/keepertest"
)

// UpdateParamsEnv is one fresh keeper whose store holds the module's default
// genesis, seen through the calls RunUpdateParams makes.
type UpdateParamsEnv[P any] struct {
	// Update delivers MsgUpdateParams{Authority: authority, Params: p} to the
	// module's msg server and returns its response (a typed nil pointer on
	// failure counts as nil).
	Update func(authority string, p P) (resp any, err error)
	// Get reads the params through the keeper.
	Get func() (P, error)
	// Query reads the params through the module's Params gRPC query.
	Query func() (P, error)
	// Raw returns the bytes stored under the module's ParamsKey, nil if absent.
	Raw func() []byte
}

// UpdateParamsSuite describes a module's params and MsgUpdateParams handler
// to RunUpdateParams. The keeper must be built with keepertest.Authority().
type UpdateParamsSuite[P any] struct {
	// New returns a fresh keeper holding the default genesis; each case gets
	// its own.
	New func(t *testing.T) UpdateParamsEnv[P]
	// Marshal encodes params exactly as the keeper stores them.
	Marshal func(P) []byte
	// Validate is the params' stateless validation.
	Validate func(P) error
	// Default is the params of the default genesis.
	Default P
	// Changed is valid and differs from Default.
	Changed P
	// Invalid holds params that Validate rejects, keyed by what is wrong.
	Invalid map[string]P
	// ErrUnauthorized and ErrInvalidParams are the module's typed errors for
	// a sender other than the authority and for params that fail validation.
	ErrUnauthorized  error
	ErrInvalidParams error
}

// NonAuthoritySenders returns senders that must not be able to update params,
// keyed by what they are: they differ from keepertest.Authority().
func NonAuthoritySenders() map[string]string {
	return map[string]string{
		"other account":           keepertest.AccountAddress("someone"),
		"empty":                   "",
		"gov with another prefix": keepertest.GovAddressWithPrefix("cosmos"),
	}
}

// updateParamsCase is one MsgUpdateParams sent to a fresh keeper holding the
// default params: a nil wantErr means it must succeed and store params.
type updateParamsCase[P any] struct {
	name      string
	sender    string
	params    P
	wantErr   error
	notErr    error
	wantValid bool
}

// RunUpdateParams checks a module's MsgUpdateParams handler, one subtest per
// case:
//   - the gov authority updates to Changed: the response is non-nil and
//     Changed is what the keeper, the Params query and the raw store under
//     ParamsKey hold afterwards (the stored bytes change from Default's);
//   - each NonAuthoritySenders sender, with Changed and with each Invalid
//     params: ErrUnauthorized (not ErrInvalidParams) and the stored params
//     are byte-identical before and after;
//   - the authority with each Invalid params: ErrInvalidParams (not
//     ErrUnauthorized) and the stored params are byte-identical before and
//     after.
func RunUpdateParams[P any](t *testing.T, s UpdateParamsSuite[P]) {
	t.Helper()
	require.NotNil(t, s.New, "New")
	require.NotNil(t, s.Marshal, "Marshal")
	require.NotNil(t, s.Validate, "Validate")
	require.NotNil(t, s.ErrUnauthorized, "ErrUnauthorized")
	require.NotNil(t, s.ErrInvalidParams, "ErrInvalidParams")
	require.NotEmpty(t, s.Invalid, "the suite needs invalid params")
	require.NoError(t, s.Validate(s.Changed), "Changed must be valid")
	require.NotEqual(t, s.Marshal(s.Default), s.Marshal(s.Changed), "test params must differ from the defaults")

	authority := keepertest.Authority()
	senders := NonAuthoritySenders()
	invalid := slices.Sorted(maps.Keys(s.Invalid))
	cases := []updateParamsCase[P]{{name: "authority/valid", sender: authority, params: s.Changed, wantValid: true}}
	for _, sname := range slices.Sorted(maps.Keys(senders)) {
		sender := senders[sname]
		require.NotEqual(t, authority, sender, sname)
		cases = append(cases, updateParamsCase[P]{name: "non-authority/" + sname + "/valid", sender: sender,
			params: s.Changed, wantErr: s.ErrUnauthorized, notErr: s.ErrInvalidParams, wantValid: true})
		for _, pname := range invalid {
			cases = append(cases, updateParamsCase[P]{name: "non-authority/" + sname + "/invalid/" + pname, sender: sender,
				params: s.Invalid[pname], wantErr: s.ErrUnauthorized, notErr: s.ErrInvalidParams})
		}
	}
	for _, pname := range invalid {
		cases = append(cases, updateParamsCase[P]{name: "authority/invalid/" + pname, sender: authority,
			params: s.Invalid[pname], wantErr: s.ErrInvalidParams, notErr: s.ErrUnauthorized})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantValid {
				require.NoError(t, s.Validate(tc.params))
			} else {
				require.Error(t, s.Validate(tc.params))
			}
			env := s.New(t)
			before := env.Raw()
			require.NotEmpty(t, before, "params must be stored before the update")
			require.Equal(t, s.Marshal(s.Default), before, "the keeper must start from the default params")

			resp, err := env.Update(tc.sender, tc.params)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.NotErrorIs(t, err, tc.notErr)
				require.Equal(t, before, env.Raw(), "params must be byte-identical after a rejected update")
				got, err := env.Get()
				require.NoError(t, err)
				require.Equal(t, before, s.Marshal(got), "the keeper must still return the old params")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, resp)

			want := s.Marshal(tc.params)
			got, err := env.Get()
			require.NoError(t, err)
			require.Equal(t, want, s.Marshal(got))
			require.Equal(t, want, env.Raw(), "params must be stored under ParamsKey")
			require.NotEqual(t, before, env.Raw(), "the stored params must change")

			q, err := env.Query()
			require.NoError(t, err)
			require.Equal(t, want, s.Marshal(q))
		})
	}
}
