package localgithub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// installationTokenTTL is how long an installation token is valid, as on
// GitHub.
const installationTokenTTL = time.Hour

// authenticate finds who the request acts as. Requests to /app/ must carry
// a GitHub App JWT; all others a token added with AddToken or issued to an
// installation.
func (s *Server) authenticate(r *http.Request) (caller, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return caller{}, errRequiresAuth
	}
	scheme, credential, _ := strings.Cut(header, " ")
	credential = strings.TrimSpace(credential)
	switch strings.ToLower(scheme) {
	case "token", "bearer":
	default:
		return caller{}, errBadCredentials
	}
	if strings.HasPrefix(r.URL.Path, "/app/") || r.URL.Path == "/app" {
		appID, err := s.verifyAppJWT(credential)
		if err != nil {
			return caller{}, err
		}
		return caller{key: "app:" + strconv.FormatInt(appID, 10), user: appUser(appID), app: appID}, nil
	}
	key := tokenKey(credential)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[key] {
		return caller{key: key, user: tokenUser}, nil
	}
	if g, ok := s.world.InstallationTokens[key]; ok && s.now().Before(g.ExpiresAt) {
		return caller{key: key, user: appUser(g.AppID)}, nil
	}
	return caller{}, errBadCredentials
}

func jwtError(message string) *apiError {
	return &apiError{status: http.StatusUnauthorized, Message: message, DocumentationURL: docsREST}
}

// verifyAppJWT checks a GitHub App JWT: RS256, signed by the key of the
// app named in iss, issued in the past and expiring within ten minutes, as
// GitHub demands. It returns the app id.
func (s *Server) verifyAppJWT(token string) (int64, error) {
	undecodable := jwtError("A JSON web token could not be decoded")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, undecodable
	}
	var head struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat *float64        `json:"iat"`
		Exp *float64        `json:"exp"`
	}
	if decodeSegment(parts[0], &head) != nil || decodeSegment(parts[1], &claims) != nil {
		return 0, undecodable
	}
	if head.Alg != "RS256" {
		return 0, undecodable
	}
	appID, err := strconv.ParseInt(strings.Trim(string(claims.Iss), `"`), 10, 64)
	if err != nil {
		return 0, undecodable
	}
	s.mu.Lock()
	a := s.apps[appID]
	s.mu.Unlock()
	if a == nil || a.key == nil {
		return 0, jwtError("Integration not found")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return 0, undecodable
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(a.key, crypto.SHA256, digest[:], sig) != nil {
		return 0, undecodable
	}
	now := s.now()
	const skew = 60 * time.Second
	switch {
	case claims.Iat == nil:
		return 0, jwtError("Missing 'issued at' claim ('iat') in the JWT.")
	case claims.Exp == nil:
		return 0, jwtError("Missing 'expiration time' claim ('exp') in the JWT.")
	case unixTime(*claims.Iat).After(now.Add(skew)):
		return 0, jwtError("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.")
	case !unixTime(*claims.Exp).After(now):
		return 0, jwtError("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
	case unixTime(*claims.Exp).After(now.Add(10*time.Minute + skew)):
		return 0, jwtError("'Expiration time' claim ('exp') is too far in the future.")
	}
	return appID, nil
}

func unixTime(seconds float64) time.Time {
	return time.Unix(int64(seconds), 0)
}

func decodeSegment(segment string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// createInstallationToken serves POST /app/installations/{id}/access_tokens.
func (s *Server) createInstallationToken(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	installationID, err := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	if err != nil {
		writeError(w, errNotFound)
		return
	}
	s.mu.Lock()
	a := s.apps[c.app]
	known := a != nil && a.installations[installationID]
	s.mu.Unlock()
	if !known {
		writeError(w, errNotFound)
		return
	}
	token, err := newInstallationToken()
	if err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, Message: err.Error()})
		return
	}
	expires := s.now().Add(installationTokenTTL).UTC().Truncate(time.Second)
	s.mu.Lock()
	now := s.now()
	for k, g := range s.world.InstallationTokens {
		if !now.Before(g.ExpiresAt) {
			delete(s.world.InstallationTokens, k)
		}
	}
	s.world.InstallationTokens[tokenKey(token)] = installationGrant{AppID: c.app, InstallationID: installationID, ExpiresAt: expires}
	s.saveLocked()
	s.mu.Unlock()
	writeJSON(w, r, http.StatusCreated, map[string]any{
		"token":                token,
		"expires_at":           ts(expires),
		"permissions":          map[string]string{"issues": "write", "metadata": "read"},
		"repository_selection": "all",
	})
}

// newInstallationToken returns a token shaped like GitHub's: ghs_ and 36
// alphanumerics.
func newInstallationToken() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [36]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "ghs_" + string(b[:]), nil
}
