// Package graph holds the Microsoft Graph v1.0 wire types Cerulean serves:
// applications, service principals, password credentials, OData lists and
// the Graph error envelope.
package graph

import "time"

// Error is Graph's error envelope.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the body of a Graph error.
type ErrorBody struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError InnerError `json:"innerError"`
}

// InnerError carries the request's identifiers.
type InnerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// List is one page of an OData collection.
type List[T any] struct {
	Context  string `json:"@odata.context"`
	NextLink string `json:"@odata.nextLink,omitempty"`
	Value    []T    `json:"value"`
}

// PasswordCredential is a client secret as Graph shows it. SecretText is
// set only in the addPassword response.
type PasswordCredential struct {
	CustomKeyIdentifier *string    `json:"customKeyIdentifier"`
	DisplayName         *string    `json:"displayName"`
	EndDateTime         *time.Time `json:"endDateTime"`
	Hint                *string    `json:"hint"`
	KeyID               *string    `json:"keyId"`
	SecretText          *string    `json:"secretText"`
	StartDateTime       *time.Time `json:"startDateTime"`
}

// AddPasswordRequest is the body of POST …/addPassword.
type AddPasswordRequest struct {
	PasswordCredential *PasswordCredentialInput `json:"passwordCredential"`
}

// PasswordCredentialInput are the settable fields of a new secret.
type PasswordCredentialInput struct {
	DisplayName   *string    `json:"displayName,omitempty"`
	EndDateTime   *time.Time `json:"endDateTime,omitempty"`
	StartDateTime *time.Time `json:"startDateTime,omitempty"`
}

// RemovePasswordRequest is the body of POST …/removePassword.
type RemovePasswordRequest struct {
	KeyID string `json:"keyId"`
}

// GetByIDsRequest is the body of POST /directoryObjects/getByIds.
type GetByIDsRequest struct {
	IDs   []string `json:"ids"`
	Types []string `json:"types,omitempty"`
}

// Application is microsoft.graph.application.
type Application struct {
	ODataContext              string               `json:"@odata.context,omitempty"`
	ODataType                 string               `json:"@odata.type,omitempty"`
	ID                        string               `json:"id"`
	DeletedDateTime           *time.Time           `json:"deletedDateTime"`
	AppID                     string               `json:"appId"`
	ApplicationTemplateID     *string              `json:"applicationTemplateId"`
	DisabledByMicrosoftStatus *string              `json:"disabledByMicrosoftStatus"`
	CreatedDateTime           time.Time            `json:"createdDateTime"`
	DisplayName               string               `json:"displayName"`
	Description               *string              `json:"description"`
	GroupMembershipClaims     *string              `json:"groupMembershipClaims"`
	IdentifierURIs            []string             `json:"identifierUris"`
	IsDeviceOnlyAuthSupported *bool                `json:"isDeviceOnlyAuthSupported"`
	IsFallbackPublicClient    *bool                `json:"isFallbackPublicClient"`
	Notes                     *string              `json:"notes"`
	PublisherDomain           string               `json:"publisherDomain"`
	SignInAudience            string               `json:"signInAudience"`
	Tags                      []string             `json:"tags"`
	TokenEncryptionKeyID      *string              `json:"tokenEncryptionKeyId"`
	AddIns                    []any                `json:"addIns"`
	API                       ApplicationAPI       `json:"api"`
	AppRoles                  []any                `json:"appRoles"`
	Info                      Info                 `json:"info"`
	KeyCredentials            []any                `json:"keyCredentials"`
	PasswordCredentials       []PasswordCredential `json:"passwordCredentials"`
	PublicClient              RedirectURIs         `json:"publicClient"`
	RequiredResourceAccess    []any                `json:"requiredResourceAccess"`
	Web                       Web                  `json:"web"`
	SPA                       RedirectURIs         `json:"spa"`
}

// ApplicationAPI is an application's api settings.
type ApplicationAPI struct {
	AcceptMappedClaims          *bool `json:"acceptMappedClaims"`
	KnownClientApplications     []any `json:"knownClientApplications"`
	RequestedAccessTokenVersion *int  `json:"requestedAccessTokenVersion"`
	OAuth2PermissionScopes      []any `json:"oauth2PermissionScopes"`
	PreAuthorizedApplications   []any `json:"preAuthorizedApplications"`
}

// Info holds an application's informational URLs.
type Info struct {
	LogoURL             *string `json:"logoUrl"`
	MarketingURL        *string `json:"marketingUrl"`
	PrivacyStatementURL *string `json:"privacyStatementUrl"`
	SupportURL          *string `json:"supportUrl"`
	TermsOfServiceURL   *string `json:"termsOfServiceUrl"`
}

// RedirectURIs is the publicClient and spa settings shape.
type RedirectURIs struct {
	RedirectURIs []string `json:"redirectUris"`
}

// Web is an application's web settings.
type Web struct {
	HomePageURL           *string               `json:"homePageUrl"`
	LogoutURL             *string               `json:"logoutUrl"`
	RedirectURIs          []string              `json:"redirectUris"`
	ImplicitGrantSettings ImplicitGrantSettings `json:"implicitGrantSettings"`
}

// ImplicitGrantSettings are a web app's implicit grant switches.
type ImplicitGrantSettings struct {
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
	EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
}

// ApplicationInput is the body of POST /applications and PATCH
// /applications/{id}. Graph rejects properties it does not know; the
// settable subset Cerulean keeps is below, and the other writable
// properties of an application are accepted only with their default
// (empty) values.
type ApplicationInput struct {
	DisplayName            *string         `json:"displayName,omitempty"`
	Description            *string         `json:"description,omitempty"`
	IdentifierURIs         []string        `json:"identifierUris,omitempty"`
	SignInAudience         *string         `json:"signInAudience,omitempty"`
	Tags                   []string        `json:"tags,omitempty"`
	Notes                  *string         `json:"notes,omitempty"`
	KeyCredentials         []any           `json:"keyCredentials,omitempty"`
	PasswordCredentials    []any           `json:"passwordCredentials,omitempty"`
	AppRoles               []any           `json:"appRoles,omitempty"`
	RequiredResourceAccess []any           `json:"requiredResourceAccess,omitempty"`
	Web                    *map[string]any `json:"web,omitempty"`
	SPA                    *map[string]any `json:"spa,omitempty"`
	PublicClient           *map[string]any `json:"publicClient,omitempty"`
	API                    *map[string]any `json:"api,omitempty"`
	IsFallbackPublicClient *bool           `json:"isFallbackPublicClient,omitempty"`
	OptionalClaims         *map[string]any `json:"optionalClaims,omitempty"`
	GroupMembershipClaims  *string         `json:"groupMembershipClaims,omitempty"`
}

// ServicePrincipal is microsoft.graph.servicePrincipal.
type ServicePrincipal struct {
	ODataContext                           string               `json:"@odata.context,omitempty"`
	ODataType                              string               `json:"@odata.type,omitempty"`
	ID                                     string               `json:"id"`
	DeletedDateTime                        *time.Time           `json:"deletedDateTime"`
	AccountEnabled                         bool                 `json:"accountEnabled"`
	AlternativeNames                       []string             `json:"alternativeNames"`
	AppDisplayName                         string               `json:"appDisplayName"`
	AppDescription                         *string              `json:"appDescription"`
	AppID                                  string               `json:"appId"`
	ApplicationTemplateID                  *string              `json:"applicationTemplateId"`
	AppOwnerOrganizationID                 string               `json:"appOwnerOrganizationId"`
	AppRoleAssignmentRequired              bool                 `json:"appRoleAssignmentRequired"`
	CreatedDateTime                        time.Time            `json:"createdDateTime"`
	Description                            *string              `json:"description"`
	DisabledByMicrosoftStatus              *string              `json:"disabledByMicrosoftStatus"`
	DisplayName                            string               `json:"displayName"`
	Homepage                               *string              `json:"homepage"`
	LoginURL                               *string              `json:"loginUrl"`
	LogoutURL                              *string              `json:"logoutUrl"`
	Notes                                  *string              `json:"notes"`
	NotificationEmailAddresses             []string             `json:"notificationEmailAddresses"`
	PreferredSingleSignOnMode              *string              `json:"preferredSingleSignOnMode"`
	PreferredTokenSigningKeyThumbprint     *string              `json:"preferredTokenSigningKeyThumbprint"`
	ReplyURLs                              []string             `json:"replyUrls"`
	ServicePrincipalNames                  []string             `json:"servicePrincipalNames"`
	ServicePrincipalType                   string               `json:"servicePrincipalType"`
	SignInAudience                         string               `json:"signInAudience"`
	Tags                                   []string             `json:"tags"`
	TokenEncryptionKeyID                   *string              `json:"tokenEncryptionKeyId"`
	SAMLSingleSignOnSettings               *any                 `json:"samlSingleSignOnSettings"`
	VerifiedPublisher                      VerifiedPublisher    `json:"verifiedPublisher"`
	AddIns                                 []any                `json:"addIns"`
	AppRoles                               []any                `json:"appRoles"`
	Info                                   Info                 `json:"info"`
	KeyCredentials                         []any                `json:"keyCredentials"`
	OAuth2PermissionScopes                 []any                `json:"oauth2PermissionScopes"`
	PasswordCredentials                    []PasswordCredential `json:"passwordCredentials"`
	ResourceSpecificApplicationPermissions []any                `json:"resourceSpecificApplicationPermissions"`
}

// VerifiedPublisher is a service principal's verified publisher.
type VerifiedPublisher struct {
	DisplayName         *string `json:"displayName"`
	VerifiedPublisherID *string `json:"verifiedPublisherId"`
	AddedDateTime       *string `json:"addedDateTime"`
}

// ServicePrincipalInput is the body of POST /servicePrincipals and PATCH
// /servicePrincipals/{id}.
type ServicePrincipalInput struct {
	AppID                     *string  `json:"appId,omitempty"`
	AccountEnabled            *bool    `json:"accountEnabled,omitempty"`
	DisplayName               *string  `json:"displayName,omitempty"`
	Description               *string  `json:"description,omitempty"`
	Notes                     *string  `json:"notes,omitempty"`
	AppRoleAssignmentRequired *bool    `json:"appRoleAssignmentRequired,omitempty"`
	ServicePrincipalNames     []string `json:"servicePrincipalNames,omitempty"`
	Tags                      []string `json:"tags,omitempty"`
}

// PasswordCredentialResponse is the body of a successful addPassword: the
// new credential, with its secretText, and the OData context.
type PasswordCredentialResponse struct {
	ODataContext string `json:"@odata.context,omitempty"`
	PasswordCredential
}
