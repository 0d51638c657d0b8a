// Package keyscan reads the first keys of a range of a collections.KeySet,
// bounded: what every capped per-block step of the modules does before it
// writes (the iterator is closed before the caller changes the set).
package keyscan

import (
	"context"

	"cosmossdk.io/collections"
)

// First returns up to limit keys of rng in set, in order; none for a zero
// limit.
func First[K any](ctx context.Context, set collections.KeySet[K], rng collections.Ranger[K], limit uint64) ([]K, error) {
	if limit == 0 {
		return nil, nil
	}
	it, err := set.Iterate(ctx, rng)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var keys []K
	for ; it.Valid() && uint64(len(keys)) < limit; it.Next() {
		key, err := it.Key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}
