package types

import (
	"encoding/json"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// eventRequestAssignedType is proto.MessageName(&EventRequestAssigned{}).
const eventRequestAssignedType = "repshard.deferral.v1.EventRequestAssigned"

// ABCIEvent returns the event sdk.TypedEventToEvent makes of e — the same
// type, attributes (sorted by key) and values (their proto JSON: 64-bit
// integers quoted, uint32 bare, strings as encoding/json quotes them) — built
// directly, without the JSON round trip: the drain emits one per assignment
// (internal/events.Emit uses it). TestEventRequestAssignedABCIEvent checks
// it against sdk.TypedEventToEvent; a field added to the message must be
// added here.
func (e *EventRequestAssigned) ABCIEvent() sdk.Event {
	// The values share one string (one allocation, not seven).
	var ends [7]int
	b := make([]byte, 0, 128+len(e.Worker))
	b = strconv.AppendUint(b, uint64(e.Attempt), 10)
	ends[0] = len(b)
	b = appendQuotedUint(b, e.ComputeUnits)
	ends[1] = len(b)
	b = appendQuotedInt(b, e.DeadlineHeight)
	ends[2] = len(b)
	b = appendQuotedUint(b, e.RequestId)
	ends[3] = len(b)
	b = appendQuotedUint(b, e.ShardId)
	ends[4] = len(b)
	b = appendQuotedInt(b, e.WaitedBlocks)
	ends[5] = len(b)
	b = appendJSONString(b, e.Worker)
	ends[6] = len(b)
	all := string(b)
	value := func(i int) string {
		if i == 0 {
			return all[:ends[0]]
		}
		return all[ends[i-1]:ends[i]]
	}
	return sdk.Event{
		Type: eventRequestAssignedType,
		Attributes: []abci.EventAttribute{
			{Key: "attempt", Value: value(0)},
			{Key: "compute_units", Value: value(1)},
			{Key: "deadline_height", Value: value(2)},
			{Key: "request_id", Value: value(3)},
			{Key: "shard_id", Value: value(4)},
			{Key: "waited_blocks", Value: value(5)},
			{Key: "worker", Value: value(6)},
		},
	}
}

// appendQuotedUint appends the proto JSON of a uint64: its decimal digits,
// quoted.
func appendQuotedUint(b []byte, v uint64) []byte {
	b = append(b, '"')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '"')
}

// appendQuotedInt appends the proto JSON of an int64: its decimal digits,
// quoted.
func appendQuotedInt(b []byte, v int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"')
}

// appendJSONString appends s as encoding/json quotes it (what the proto JSON
// of a string is): quoted as is when it holds only letters and digits (every
// bech32 address), through encoding/json otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			j, err := json.Marshal(s)
			if err != nil { // cannot happen: every Go string marshals
				panic(err)
			}
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
