/* CWeftHost has no interface: backtracer.c is a load-time constructor only.
 * (SwiftPM wants a public include directory for every C target.) */
