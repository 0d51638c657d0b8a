package cli

// BuildSubmitRequest exposes buildSubmitRequest to the cli_test package,
// whose tests also run the whole repshardd command (which imports this
// package).
var BuildSubmitRequest = buildSubmitRequest
