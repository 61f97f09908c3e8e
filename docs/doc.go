// Package docs holds cxloop's documentation (Markdown). Its test checks that
// the troubleshooting guide explains every condition type and every
// condition or Event reason the code can emit, so that a new reason fails
// the build until it is documented.
package docs
