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
	return sdk.Event{
		Type: eventRequestAssignedType,
		Attributes: []abci.EventAttribute{
			{Key: "attempt", Value: strconv.FormatUint(uint64(e.Attempt), 10)},
			{Key: "compute_units", Value: quotedUint(e.ComputeUnits)},
			{Key: "deadline_height", Value: quotedInt(e.DeadlineHeight)},
			{Key: "request_id", Value: quotedUint(e.RequestId)},
			{Key: "shard_id", Value: quotedUint(e.ShardId)},
			{Key: "waited_blocks", Value: quotedInt(e.WaitedBlocks)},
			{Key: "worker", Value: jsonString(e.Worker)},
		},
	}
}

// quotedUint is the proto JSON of a uint64: its decimal digits, quoted.
func quotedUint(v uint64) string {
	var buf [22]byte
	b := append(buf[:0], '"')
	b = strconv.AppendUint(b, v, 10)
	return string(append(b, '"'))
}

// quotedInt is the proto JSON of an int64: its decimal digits, quoted.
func quotedInt(v int64) string {
	var buf [22]byte
	b := append(buf[:0], '"')
	b = strconv.AppendInt(b, v, 10)
	return string(append(b, '"'))
}

// jsonString is s as encoding/json quotes it (what the proto JSON of a
// string is): quoted as is when it holds only letters and digits (every
// bech32 address), through encoding/json otherwise.
func jsonString(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			b, err := json.Marshal(s)
			if err != nil { // cannot happen: every Go string marshals
				panic(err)
			}
			return string(b)
		}
	}
	return `"` + s + `"`
}
