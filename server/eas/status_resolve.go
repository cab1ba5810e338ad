package eas

// ResolveRecipients status codes, MS-ASCMD 2.2.3.177.12. The Status of
// ResolveRecipients is 1, 5 or 6; the Status of each Response is 1–4; the
// Status of Certificates is 1, 7 or 8. Availability and Picture use the
// common codes 160–163 (StatusAvailability*) and 173–175 (StatusNoPicture,
// StatusPictureTooLarge, StatusPictureLimitReached); Picture also in
// Search GAL results.
const (
	ResolveStatusSuccess       Status = 1
	ResolveStatusProtocolError Status = 5 // an invalid parameter, or a range beyond the limits
	ResolveStatusServerError   Status = 6 // the client retries

	// ResolveStatusAmbiguous: the Recipients are suggestions, all of them.
	ResolveStatusAmbiguous Status = 2
	// ResolveStatusAmbiguousPartial: the Recipients are some of the
	// suggestions; RecipientCount is how many there are.
	ResolveStatusAmbiguousPartial Status = 3
	// ResolveStatusUnresolved: no recipient matches.
	ResolveStatusUnresolved Status = 4

	// CertStatusNoValidCertificate: the recipient has no valid S/MIME
	// certificate; none is returned.
	CertStatusNoValidCertificate Status = 7
	// CertStatusLimitReached: MaxCertificates was reached.
	CertStatusLimitReached Status = 8
)
