package oauthlogin

// GoogleIssuer is Google's OpenID Connect issuer. A KindGoogle provider is a
// KindOIDC provider with this issuer and Google's display name and icon.
//
// Google's ID tokens sometimes say "accounts.google.com" without the scheme;
// go-oidc accepts that spelling for Google alone, and the identities are
// recorded under GoogleIssuer either way. Google sets email_verified for
// gmail.com addresses and for Workspace domains it manages, which is what
// makes TrustEmail reasonable for it; the "sub" is the account, and stays
// when the address changes.
const GoogleIssuer = "https://accounts.google.com"
