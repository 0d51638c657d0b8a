// Package simsutil holds what the simulation operations of the four repshard
// modules share: delivery-result handlers for invalid msgs and random picks
// from a module's state.
package simsutil

import (
	"errors"
	"fmt"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
)

// ExpectError is the delivery-result handler of an invalid msg: the tx must
// fail, with one of the given errors (errors.Is). A tx that succeeds, or fails
// with another error, fails the simulation.
func ExpectError(targets ...error) simsx.SimDeliveryResultHandler {
	return func(err error) error {
		if err == nil {
			return fmt.Errorf("invalid msg was accepted; expected one of %v", targets)
		}
		for _, t := range targets {
			if errors.Is(err, t) {
				return nil
			}
		}
		return fmt.Errorf("invalid msg failed with an unexpected error %w; expected one of %v", err, targets)
	}
}

// ExpectSuccessOr is the handler of a valid msg that the state may still
// refuse for a documented reason (e.g. every shard of the class is full): it
// accepts success and the given errors only.
func ExpectSuccessOr(allowed ...error) simsx.SimDeliveryResultHandler {
	return func(err error) error {
		if err == nil {
			return nil
		}
		for _, t := range allowed {
			if errors.Is(err, t) {
				return nil
			}
		}
		return err
	}
}

// Pick returns a random element of items; ok is false when items is empty.
func Pick[T any](r *simsx.XRand, items []T) (item T, ok bool) {
	if len(items) == 0 {
		return item, false
	}
	return items[r.Intn(len(items))], true
}
