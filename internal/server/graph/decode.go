package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/server"
)

// graphTypes names the wire input types as Graph's errors do.
var graphTypes = map[reflect.Type]string{
	reflect.TypeFor[graph.ApplicationInput]():        "microsoft.graph.application",
	reflect.TypeFor[graph.ServicePrincipalInput]():   "microsoft.graph.servicePrincipal",
	reflect.TypeFor[graph.PasswordCredentialInput](): "microsoft.graph.passwordCredential",
	reflect.TypeFor[graph.AddPasswordRequest]():      "microsoft.graph.addPassword",
	reflect.TypeFor[graph.RemovePasswordRequest]():   "microsoft.graph.removePassword",
	reflect.TypeFor[graph.GetByIDsRequest]():         "microsoft.graph.getByIds",
}

// decodeBody decodes a JSON object into dst (a pointer to one of the wire
// input types) strictly, as Graph does: every property must be one the type
// declares, spelled exactly (Go's decoder alone would accept any case), and
// nested objects are checked the same way. OData annotations ("@odata.…")
// are ignored. server.DecodeJSON bounds the size and checks the syntax and
// media type.
func decodeBody(r *http.Request, dst any) error {
	var raw json.RawMessage
	if err := server.DecodeJSON(r, &raw, false); err != nil {
		return err
	}
	t := reflect.TypeOf(dst).Elem()
	if err := checkProperties(raw, t); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return errInvalidValue.WithMessage("Invalid value specified for property '%s' of resource '%s'.", truncate(typ.Field), graphTypes[t]).WithTarget(typ.Field)
		}
		return errInvalidValue.WithMessage("The request body could not be read as '%s'.", graphTypes[t])
	}
	return nil
}

// checkProperties verifies the property names of a JSON object against the
// json tags of struct type t, recursing into struct-typed fields.
func checkProperties(raw json.RawMessage, t reflect.Type) error {
	if string(raw) == "null" {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return errInvalidValue.WithMessage("The request body must be a JSON object of type '%s'.", graphTypes[t])
	}
	fields := jsonFields(t)
	for name, v := range obj {
		if strings.HasPrefix(name, "@odata.") {
			continue
		}
		ft, ok := fields[name]
		if !ok {
			return errUnknownProperty.WithMessage("Property '%s' does not exist on type '%s'.", truncate(name), graphTypes[t]).WithTarget(name)
		}
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if _, known := graphTypes[ft]; known && ft.Kind() == reflect.Struct {
			if err := checkProperties(v, ft); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps a struct's JSON property names to field types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = f.Type
	}
	return out
}
