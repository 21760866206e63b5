package pki

// IndexFile and SettingsFile are the PKI directory's own bookkeeping files,
// exported for those that list what a directory holds (bundle's preview).
const (
	IndexFile    = indexFile
	SettingsFile = settingsFile
)
