package types

// Msg is the single submission that this batch entry stands for.
func (r RequestSpec) Msg(requester string) *MsgSubmitRequest {
	return &MsgSubmitRequest{
		Requester: requester, Class: r.Class, Urgency: r.Urgency, ComputeUnits: r.ComputeUnits,
		Payload: r.Payload, PayloadHash: r.PayloadHash, PayloadUri: r.PayloadUri, DataBytes: r.DataBytes,
		MaxFee: r.MaxFee, PowNonce: r.PowNonce, Replicas: r.Replicas, DeadlineBlocks: r.DeadlineBlocks,
	}
}

// Spec is this submission as a batch entry (the requester is the batch's).
func (m *MsgSubmitRequest) Spec() RequestSpec {
	return RequestSpec{
		Class: m.Class, Urgency: m.Urgency, ComputeUnits: m.ComputeUnits,
		Payload: m.Payload, PayloadHash: m.PayloadHash, PayloadUri: m.PayloadUri, DataBytes: m.DataBytes,
		MaxFee: m.MaxFee, PowNonce: m.PowNonce, Replicas: m.Replicas, DeadlineBlocks: m.DeadlineBlocks,
	}
}
