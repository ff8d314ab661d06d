// This target holds only code generated from openapi.yaml by the OpenAPIGenerator build plugin
// (DESIGN §3: generated code alone in its target). SwiftPM needs one source file to build it.
