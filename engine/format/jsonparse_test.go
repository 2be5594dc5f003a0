package format

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"ctq/engine"
)

func TestJSONParserStrings(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{`"\u00e9\u20AC"`, "é€"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83d"`, "\uFFFD"},
		{`"\ud83dx"`, "\uFFFDx"},
		{`"\ude00\ud83d\u0041"`, "\uFFFD\uFFFDA"},
		{"\"\xff\"", "\uFFFD"},
		{"\"é\\n\xc3\"", "é\n\uFFFD"},
	}
	for _, tt := range tests {
		p := jsonParser{data: []byte(tt.in)}
		got, err := p.str()
		if err != nil || string(got) != tt.want {
			t.Errorf("str(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{`"abc`, "\"a\nb\"", `"\x"`, `"\u12"`, `"\u12g4"`, `abc`, `"\`} {
		p := jsonParser{data: []byte(in)}
		if got, err := p.str(); err == nil {
			t.Errorf("str(%s) accepted: %q", in, got)
		}
	}
}

func TestDecodeJSONSyntax(t *testing.T) {
	in := " {\"family\":\"ipv4\", \"proto\" : \"tcp\" ,\n\"protonum\":6, \"unknown\": {\"a\":[1,{\"b\":null},true,false,-1.5e3]}, \"mark\": null, " +
		"\"h\\u0065lper\": \"x\", \"helper\": \"ftp\\u0000\", \"zone\": -0 } \n"
	var f engine.Flow
	if err := DecodeJSON([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	if f.Proto != "tcp" || f.ProtoNum != 6 || f.Helper != "ftp\x00" || f.Has&engine.HasMark != 0 || f.Has&engine.HasZone == 0 {
		t.Errorf("decoded %+v", f)
	}
	for _, bad := range []string{`{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":[1,]}`, `{"a":tru}`,
		`{"a":{"b"}}`, `{"sport":1e2}`, `{"sport":9223372036854775808}`, `{"a":1}}`, `{` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`} {
		if err := DecodeJSON([]byte(bad), &f); err == nil {
			t.Errorf("DecodeJSON(%.40s) accepted", bad)
		}
	}
}

// FuzzJSONParser checks the scanner against encoding/json: the same
// strings, the same verdict on arbitrary values.
func FuzzJSONParser(f *testing.F) {
	for _, s := range []string{`"a\u00e9\ud83d\ude00"`, `"\ud800\udc00"`, "\"\xed\xa0\x80\"", `[1,{"a":[true,null]},"x"]`,
		`-0.5e+10`, `{"a":{}}`, `01`, `"\u0000"`, `[]`, `{}`, `1.`, `"` + "\x7f" + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			return // encoding/json accepts null for a string
		}
		p := jsonParser{data: data}
		got, err := p.str()
		if err == nil {
			err = p.end()
		}
		var want string
		wantErr := json.Unmarshal(data, &want)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("str: err %v, encoding/json err %v", err, wantErr)
		}
		if err == nil && string(got) != want {
			t.Fatalf("str = %q, encoding/json %q", got, want)
		}

		p = jsonParser{data: data}
		err = p.skip(0)
		if err == nil {
			err = p.end()
		}
		if valid := json.Valid(data); (err == nil) != valid && !strings.Contains(errString(err), "nested too deeply") {
			t.Fatalf("skip: err %v, json.Valid %v", err, valid)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
