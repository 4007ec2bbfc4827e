// The conformance table: pattern / event / expected outcome, covering every operator of the
// EventBridge pattern language and their combinations, written from its documentation. Each
// case runs through the reference interpreter, explain(), a one-rule Matcher and one Matcher
// holding every pattern of the table at once (which must also agree with the reference on
// every other pattern for every event).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/interpreter.h"
#include "rules/matcher.h"
#include "rules/pattern.h"

namespace eddy::rules {
namespace {

// The event most cases use: a CloudEvent with a payload of many shapes.
constexpr const char* kE = R"({
  "specversion": "1.0", "id": "e-1", "source": "/shop/orders", "type": "order.created",
  "subject": "orders/42.png", "time": "2017-10-02T18:43:48Z", "tenant": "acme",
  "data": {
    "state": "running", "amount": 300, "price": 12.5, "count": 0, "neg": -5, "big": 1e9,
    "flag": true, "off": false, "nothing": null, "empty": "", "region": "us-east-1",
    "file": "photo.PNG", "service": "EventBridge", "ip": "10.0.0.33",
    "ip6": "2001:db8::ff00:42:8329", "tags": ["red", "blue"], "nums": [1, 2, 3],
    "mixed": [1, "a", null],
    "customer": {"name": "Jane", "tier": "gold", "address": {"city": "Berlin"}},
    "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}],
    "path": "/usr/lib/libx.so", "str_num": "300", "unicode": "Ærøskøbing",
    "greek": "ΣΊΣΥΦΟΣ", "star": "a*b"
  }
})";

struct Case {
  const char* name;
  const char* pattern;
  const char* event;  // nullptr: kE
  bool match;
};

// clang-format off
const Case kCases[] = {
  // Exact strings, on context attributes, extensions and data.
  {"type equals", R"({"type":["order.created"]})", nullptr, true},
  {"type differs", R"({"type":["order.deleted"]})", nullptr, false},
  {"list means any of", R"({"type":["order.deleted","order.created"]})", nullptr, true},
  {"source equals", R"({"source":["/shop/orders"]})", nullptr, true},
  {"exact is not prefix", R"({"source":["/shop"]})", nullptr, false},
  {"exact is case sensitive", R"({"type":["Order.Created"]})", nullptr, false},
  {"extension attribute", R"({"tenant":["acme"]})", nullptr, true},
  {"extension attribute differs", R"({"tenant":["other"]})", nullptr, false},
  {"two fields both match", R"({"id":["e-1"],"type":["order.created"]})", nullptr, true},
  {"two fields one fails", R"({"id":["e-1"],"type":["order.updated"]})", nullptr, false},
  {"data field", R"({"data":{"state":["running"]}})", nullptr, true},
  {"data field differs", R"({"data":{"state":["stopped"]}})", nullptr, false},
  {"payload fields live under data", R"({"state":["running"]})", nullptr, false},
  {"missing data field", R"({"data":{"missing":["x"]}})", nullptr, false},
  {"string that looks numeric", R"({"data":{"str_num":["300"]}})", nullptr, true},
  {"number pattern vs string value", R"({"data":{"str_num":[300]}})", nullptr, false},
  {"string pattern vs number value", R"({"data":{"amount":["300"]}})", nullptr, false},
  {"unicode string", R"({"data":{"unicode":["Ærøskøbing"]}})", nullptr, true},
  {"partial string", R"({"data":{"state":["run"]}})", nullptr, false},
  {"object is not a value", R"({"data":{"customer":["Jane"]}})", nullptr, false},
  {"escapes in event string", R"({"data":{"q":["say \"hi\"\n"]}})", R"({"data":{"q":"say \"hi\"\n"}})", true},
  {"unicode escape in event", R"({"data":{"u":["Æ"]}})", R"({"data":{"u":"\u00c6"}})", true},
  {"escaped key in event", R"({"data":{"ab":["x"]}})", R"({"data":{"a\u0062":"x"}})", true},
  {"dotted key is not nesting", R"({"data":{"a":{"b":["x"]}}})", R"({"data":{"a.b":"x"}})", false},
  {"dotted key matches itself", R"({"data":{"a.b":["x"]}})", R"({"data":{"a.b":"x"}})", true},
  {"duplicate key: first counts", R"({"data":{"s":["b"]}})", R"({"data":{"s":"a","s":"b"}})", false},
  {"duplicate key: first matches", R"({"data":{"s":["a"]}})", R"({"data":{"s":"a","s":"b"}})", true},

  // Numbers compare by value.
  {"integer", R"({"data":{"amount":[300]}})", nullptr, true},
  {"exponent form", R"({"data":{"amount":[3.0e2]}})", nullptr, true},
  {"decimal form", R"({"data":{"amount":[300.0]}})", nullptr, true},
  {"other integer", R"({"data":{"amount":[301]}})", nullptr, false},
  {"fraction", R"({"data":{"price":[12.5]}})", nullptr, true},
  {"fraction in exponent form", R"({"data":{"price":[1.25e1]}})", nullptr, true},
  {"zero", R"({"data":{"count":[0]}})", nullptr, true},
  {"negative zero equals zero", R"({"data":{"count":[-0.0]}})", nullptr, true},
  {"negative", R"({"data":{"neg":[-5]}})", nullptr, true},
  {"sign matters", R"({"data":{"neg":[5]}})", nullptr, false},
  {"large number", R"({"data":{"big":[1000000000]}})", nullptr, true},
  {"event in exponent form", R"({"data":{"n":[300]}})", R"({"data":{"n":3.0e2}})", true},
  {"decimal fraction", R"({"data":{"n":[0.1]}})", R"({"data":{"n":0.1}})", true},
  {"number in array", R"({"data":{"nums":[2]}})", nullptr, true},
  {"number not in array", R"({"data":{"nums":[4]}})", nullptr, false},
  {"list of numbers", R"({"data":{"amount":[100,200,300]}})", nullptr, true},

  // Booleans, null and empty strings.
  {"true", R"({"data":{"flag":[true]}})", nullptr, true},
  {"true is not false", R"({"data":{"flag":[false]}})", nullptr, false},
  {"false", R"({"data":{"off":[false]}})", nullptr, true},
  {"boolean is not a string", R"({"data":{"flag":["true"]}})", nullptr, false},
  {"null", R"({"data":{"nothing":[null]}})", nullptr, true},
  {"null is not empty string", R"({"data":{"nothing":[""]}})", nullptr, false},
  {"empty string", R"({"data":{"empty":[""]}})", nullptr, true},
  {"empty string is not null", R"({"data":{"empty":[null]}})", nullptr, false},
  {"missing is not null", R"({"data":{"missing":[null]}})", nullptr, false},
  {"null inside array", R"({"data":{"mixed":[null]}})", nullptr, true},
  {"string inside mixed array", R"({"data":{"mixed":["a"]}})", nullptr, true},
  {"absent number in mixed array", R"({"data":{"mixed":[2]}})", nullptr, false},

  // Arrays in the event: any element.
  {"array contains value", R"({"data":{"tags":["blue"]}})", nullptr, true},
  {"array lacks value", R"({"data":{"tags":["green"]}})", nullptr, false},
  {"array intersects list", R"({"data":{"tags":["green","red"]}})", nullptr, true},
  {"empty array", R"({"data":{"resources":["x"]}})", R"({"data":{"resources":[]}})", false},
  {"nested arrays flatten", R"({"data":{"m":["c"]}})", R"({"data":{"m":[["a","b"],["c"]]}})", true},
  {"array of objects", R"({"data":{"items":{"sku":["B"]}}})", nullptr, true},
  {"array of objects lacks value", R"({"data":{"items":{"sku":["C"]}}})", nullptr, false},
  {"fields from the same element", R"({"data":{"items":{"sku":["A"],"qty":[1]}}})", nullptr, true},
  {"fields from different elements", R"({"data":{"items":{"sku":["A"],"qty":[5]}}})", nullptr, false},
  {"second element", R"({"data":{"items":{"sku":["B"],"qty":[5]}}})", nullptr, true},
  {"list picks the right element", R"({"data":{"items":{"sku":["A","B"],"qty":[5]}}})", nullptr, true},
  {"separate arrays are independent", R"({"data":{"a":{"x":[1]},"b":{"y":[2]}}})", R"({"data":{"a":[{"x":1}],"b":[{"y":2}]}})", true},
  {"nested arrays of objects", R"({"data":{"o":{"i":{"k":["w"],"n":[2]}}}})", R"({"data":{"o":[{"i":[{"k":"v","n":1},{"k":"w","n":2}]}]}})", true},
  {"nested arrays of objects, mixed elements", R"({"data":{"o":{"i":{"k":["w"],"n":[1]}}}})", R"({"data":{"o":[{"i":[{"k":"v","n":1},{"k":"w","n":2}]}]}})", false},
  {"array of arrays of objects", R"({"data":{"employees":{"firstName":["Anna"]}}})", R"({"data":{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}})", true},
  {"array of arrays: different elements", R"({"data":{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}})", R"({"data":{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}})", false},
  {"array of arrays: same element", R"({"data":{"employees":{"firstName":["Peter"],"lastName":["Jones"]}}})", R"({"data":{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}})", true},
  {"two conditions on one scalar array", R"({"data":{"tags":["red"],"$or":[{"tags":["blue"]},{"tags":["x"]}]}})", nullptr, true},

  // Nested objects.
  {"nested field", R"({"data":{"customer":{"tier":["gold"]}}})", nullptr, true},
  {"deeply nested field", R"({"data":{"customer":{"address":{"city":["Berlin"]}}}})", nullptr, true},
  {"deeply nested field differs", R"({"data":{"customer":{"address":{"city":["Paris"]}}}})", nullptr, false},
  {"nested and sibling", R"({"data":{"customer":{"tier":["gold"]},"state":["running"]}})", nullptr, true},
  {"nesting into a scalar", R"({"data":{"state":{"x":["y"]}}})", nullptr, false},
  {"nested fields all must match", R"({"data":{"customer":{"name":["Jane"],"tier":["silver"]}}})", nullptr, false},

  // prefix, also ignoring case.
  {"prefix", R"({"time":[{"prefix":"2017-10-02"}]})", nullptr, true},
  {"prefix differs", R"({"time":[{"prefix":"2017-10-03"}]})", nullptr, false},
  {"prefix on data", R"({"data":{"region":[{"prefix":"us-"}]}})", nullptr, true},
  {"prefix on data differs", R"({"data":{"region":[{"prefix":"eu-"}]}})", nullptr, false},
  {"empty prefix matches any string", R"({"data":{"region":[{"prefix":""}]}})", nullptr, true},
  {"prefix needs a string", R"({"data":{"amount":[{"prefix":"3"}]}})", nullptr, false},
  {"prefix on array element", R"({"data":{"tags":[{"prefix":"bl"}]}})", nullptr, true},
  {"prefix longer than value", R"({"data":{"region":[{"prefix":"us-east-1-extra"}]}})", nullptr, false},
  {"prefix is case sensitive", R"({"data":{"region":[{"prefix":"US-"}]}})", nullptr, false},
  {"any of two prefixes", R"({"data":{"region":[{"prefix":"eu-"},{"prefix":"us-"}]}})", nullptr, true},
  {"prefix ignoring case", R"({"data":{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}})", nullptr, true},
  {"prefix ignoring case, upper", R"({"data":{"service":[{"prefix":{"equals-ignore-case":"EVENTB"}}]}})", nullptr, true},
  {"prefix ignoring case differs", R"({"data":{"service":[{"prefix":{"equals-ignore-case":"bridge"}}]}})", nullptr, false},
  {"prefix ignoring case, non-ASCII", R"({"data":{"unicode":[{"prefix":{"equals-ignore-case":"æRØ"}}]}})", nullptr, true},
  {"prefix on null", R"({"data":{"nothing":[{"prefix":""}]}})", nullptr, false},

  // suffix, also ignoring case.
  {"suffix", R"({"subject":[{"suffix":".png"}]})", nullptr, true},
  {"suffix differs", R"({"subject":[{"suffix":".jpg"}]})", nullptr, false},
  {"suffix is case sensitive", R"({"data":{"file":[{"suffix":".png"}]}})", nullptr, false},
  {"suffix ignoring case", R"({"data":{"file":[{"suffix":{"equals-ignore-case":".png"}}]}})", nullptr, true},
  {"suffix ignoring case differs", R"({"data":{"file":[{"suffix":{"equals-ignore-case":".JPG"}}]}})", nullptr, false},
  {"suffix exact case", R"({"data":{"file":[{"suffix":"PNG"}]}})", nullptr, true},
  {"suffix is whole value", R"({"data":{"file":[{"suffix":"photo.PNG"}]}})", nullptr, true},
  {"suffix longer than value", R"({"data":{"file":[{"suffix":"xphoto.PNG"}]}})", nullptr, false},
  {"suffix on array element", R"({"data":{"tags":[{"suffix":"ue"}]}})", nullptr, true},
  {"suffix ignoring case, Greek final sigma", R"({"data":{"greek":[{"suffix":{"equals-ignore-case":"φος"}}]}})", nullptr, true},
  {"suffix needs a string", R"({"data":{"nums":[{"suffix":"3"}]}})", nullptr, false},

  // equals-ignore-case.
  {"ignore case, lower", R"({"data":{"service":[{"equals-ignore-case":"eventbridge"}]}})", nullptr, true},
  {"ignore case, upper", R"({"data":{"service":[{"equals-ignore-case":"EVENTBRIDGE"}]}})", nullptr, true},
  {"ignore case is still whole value", R"({"data":{"service":[{"equals-ignore-case":"eventbridg"}]}})", nullptr, false},
  {"ignore case, Latin-1", R"({"data":{"unicode":[{"equals-ignore-case":"ÆRØSKØBING"}]}})", nullptr, true},
  {"ignore case, Greek", R"({"data":{"greek":[{"equals-ignore-case":"σίσυφος"}]}})", nullptr, true},
  {"ignore case needs a string", R"({"data":{"amount":[{"equals-ignore-case":"300"}]}})", nullptr, false},
  {"ignore case on array element", R"({"data":{"tags":[{"equals-ignore-case":"RED"}]}})", nullptr, true},
  {"ignore case on type", R"({"type":[{"equals-ignore-case":"ORDER.CREATED"}]})", nullptr, true},
  {"ignore case, Cyrillic", R"({"data":{"c":[{"equals-ignore-case":"привет"}]}})", R"({"data":{"c":"ПРИВЕТ"}})", true},
  {"ignore case is simple folding", R"({"data":{"c":[{"equals-ignore-case":"straße"}]}})", R"({"data":{"c":"STRASSE"}})", false},

  // anything-but.
  {"anything-but string", R"({"data":{"state":[{"anything-but":"initializing"}]}})", nullptr, true},
  {"anything-but excluded string", R"({"data":{"state":[{"anything-but":"running"}]}})", nullptr, false},
  {"anything-but list", R"({"data":{"state":[{"anything-but":["stopped","overloaded"]}]}})", nullptr, true},
  {"anything-but list excludes", R"({"data":{"state":[{"anything-but":["stopped","running"]}]}})", nullptr, false},
  {"anything-but number", R"({"data":{"amount":[{"anything-but":123}]}})", nullptr, true},
  {"anything-but number list excludes", R"({"data":{"amount":[{"anything-but":[100,200,300]}]}})", nullptr, false},
  {"anything-but number by value", R"({"data":{"amount":[{"anything-but":[3e2]}]}})", nullptr, false},
  {"anything-but string vs number value", R"({"data":{"amount":[{"anything-but":"300"}]}})", nullptr, true},
  {"anything-but needs a value", R"({"data":{"missing":[{"anything-but":"x"}]}})", nullptr, false},
  {"anything-but prefix", R"({"data":{"state":[{"anything-but":{"prefix":"init"}}]}})", nullptr, true},
  {"anything-but prefix excludes", R"({"data":{"state":[{"anything-but":{"prefix":"run"}}]}})", nullptr, false},
  {"anything-but suffix", R"({"data":{"file":[{"anything-but":{"suffix":".png"}}]}})", nullptr, true},
  {"anything-but suffix excludes", R"({"data":{"file":[{"anything-but":{"suffix":".PNG"}}]}})", nullptr, false},
  {"anything-but ignore case excludes", R"({"data":{"state":[{"anything-but":{"equals-ignore-case":"RUNNING"}}]}})", nullptr, false},
  {"anything-but ignore case list", R"({"data":{"state":[{"anything-but":{"equals-ignore-case":["STOPPED","PAUSED"]}}]}})", nullptr, true},
  {"anything-but wildcard excludes", R"({"data":{"path":[{"anything-but":{"wildcard":"*/lib/*"}}]}})", nullptr, false},
  {"anything-but wildcard", R"({"data":{"path":[{"anything-but":{"wildcard":"*/bin/*"}}]}})", nullptr, true},
  {"anything-but wildcard list excludes", R"({"data":{"path":[{"anything-but":{"wildcard":["*/bin/*","*.so"]}}]}})", nullptr, false},
  {"anything-but on array: another element", R"({"data":{"tags":[{"anything-but":"red"}]}})", nullptr, true},
  {"anything-but on array: only element", R"({"data":{"tags":[{"anything-but":"red"}]}})", R"({"data":{"tags":["red"]}})", false},
  {"anything-but and null", R"({"data":{"nothing":[{"anything-but":"x"}]}})", nullptr, true},
  {"anything-but string vs boolean", R"({"data":{"flag":[{"anything-but":"true"}]}})", nullptr, true},
  {"anything-but prefix vs number", R"({"data":{"amount":[{"anything-but":{"prefix":"3"}}]}})", nullptr, true},
  {"anything-but or a value", R"({"data":{"state":[{"anything-but":"initializing"},"x"]}})", nullptr, true},
  {"anything-but on object", R"({"data":{"customer":[{"anything-but":"x"}]}})", nullptr, false},
  {"anything-but empty string", R"({"data":{"empty":[{"anything-but":""}]}})", nullptr, false},

  // numeric.
  {"greater than", R"({"data":{"amount":[{"numeric":[">",0]}]}})", nullptr, true},
  {"greater than is strict", R"({"data":{"amount":[{"numeric":[">",300]}]}})", nullptr, false},
  {"at least", R"({"data":{"amount":[{"numeric":[">=",300]}]}})", nullptr, true},
  {"less than is strict", R"({"data":{"amount":[{"numeric":["<",300]}]}})", nullptr, false},
  {"at most", R"({"data":{"amount":[{"numeric":["<=",300]}]}})", nullptr, true},
  {"numeric equals", R"({"data":{"amount":[{"numeric":["=",300]}]}})", nullptr, true},
  {"numeric equals by value", R"({"data":{"amount":[{"numeric":["=",3.0e2]}]}})", nullptr, true},
  {"numeric equals differs", R"({"data":{"amount":[{"numeric":["=",301]}]}})", nullptr, false},
  {"range including top", R"({"data":{"amount":[{"numeric":[">",0,"<=",300]}]}})", nullptr, true},
  {"range excluding top", R"({"data":{"amount":[{"numeric":[">",0,"<",300]}]}})", nullptr, false},
  {"single point range", R"({"data":{"amount":[{"numeric":[">=",300,"<=",300]}]}})", nullptr, true},
  {"upper bound first", R"({"data":{"amount":[{"numeric":["<",1000,">",299.99]}]}})", nullptr, true},
  {"fractional range", R"({"data":{"price":[{"numeric":[">",12.4,"<",12.6]}]}})", nullptr, true},
  {"negative below zero", R"({"data":{"neg":[{"numeric":["<",0]}]}})", nullptr, true},
  {"negative bound is strict", R"({"data":{"neg":[{"numeric":[">",-5]}]}})", nullptr, false},
  {"negative bound inclusive", R"({"data":{"neg":[{"numeric":[">=",-5]}]}})", nullptr, true},
  {"numeric needs a number", R"({"data":{"str_num":[{"numeric":[">",0]}]}})", nullptr, false},
  {"numeric on array element", R"({"data":{"nums":[{"numeric":[">",2]}]}})", nullptr, true},
  {"numeric on array, none", R"({"data":{"nums":[{"numeric":[">",3]}]}})", nullptr, false},
  {"numeric large", R"({"data":{"big":[{"numeric":[">=",1e9]}]}})", nullptr, true},
  {"numeric zero", R"({"data":{"count":[{"numeric":["=",0]}]}})", nullptr, true},
  {"numeric on missing", R"({"data":{"missing":[{"numeric":[">",0]}]}})", nullptr, false},
  {"either of two ranges", R"({"data":{"amount":[{"numeric":[">",500]},{"numeric":["<",400]}]}})", nullptr, true},
  {"neither of two ranges", R"({"data":{"amount":[{"numeric":[">",500]},{"numeric":["<",100]}]}})", nullptr, false},
  {"range or exact", R"({"data":{"amount":[{"numeric":[">",500]},300]}})", nullptr, true},
  {"tiny numbers", R"({"data":{"x":[{"numeric":[">",0,"<",1e-6]}]}})", R"({"data":{"x":1e-7}})", true},
  {"numeric on boolean", R"({"data":{"flag":[{"numeric":[">",0]}]}})", nullptr, false},
  {"numeric inside array of objects", R"({"data":{"items":{"qty":[{"numeric":[">",4]}]}}})", nullptr, true},

  // exists.
  {"exists", R"({"data":{"state":[{"exists":true}]}})", nullptr, true},
  {"exists on missing", R"({"data":{"missing":[{"exists":true}]}})", nullptr, false},
  {"not exists on missing", R"({"data":{"missing":[{"exists":false}]}})", nullptr, true},
  {"not exists on present", R"({"data":{"state":[{"exists":false}]}})", nullptr, false},
  {"null exists", R"({"data":{"nothing":[{"exists":true}]}})", nullptr, true},
  {"empty string exists", R"({"data":{"empty":[{"exists":true}]}})", nullptr, true},
  {"object is not a leaf", R"({"data":{"customer":[{"exists":true}]}})", nullptr, false},
  {"object counts as absent leaf", R"({"data":{"customer":[{"exists":false}]}})", nullptr, true},
  {"empty array has no value", R"({"data":{"list":[{"exists":true}]}})", R"({"data":{"list":[]}})", false},
  {"empty array is absent", R"({"data":{"list":[{"exists":false}]}})", R"({"data":{"list":[]}})", true},
  {"array exists", R"({"data":{"tags":[{"exists":true}]}})", nullptr, true},
  {"nested exists", R"({"data":{"customer":{"tier":[{"exists":true}]}}})", nullptr, true},
  {"nested not exists", R"({"data":{"customer":{"vip":[{"exists":false}]}}})", nullptr, true},
  {"attribute not exists", R"({"nosuchattr":[{"exists":false}],"type":["order.created"]})", nullptr, true},
  {"not exists inside array of objects", R"({"data":{"items":{"sku":[{"exists":false}]}}})", nullptr, false},
  {"not exists anywhere in array", R"({"data":{"items":{"color":[{"exists":false}]}}})", nullptr, true},
  {"value or absent, present", R"({"data":{"state":["x",{"exists":false}]}})", nullptr, false},
  {"value or absent, absent", R"({"data":{"missing":["x",{"exists":false}]}})", nullptr, true},
  {"exists or not", R"({"data":{"state":[{"exists":true},{"exists":false}]}})", nullptr, true},
  {"not exists below a scalar", R"({"data":{"state":{"sub":[{"exists":false}]}}})", nullptr, true},

  // wildcard.
  {"wildcard trailing star", R"({"data":{"path":[{"wildcard":"/usr/*"}]}})", nullptr, true},
  {"wildcard leading star", R"({"data":{"path":[{"wildcard":"*.so"}]}})", nullptr, true},
  {"wildcard both ends", R"({"data":{"path":[{"wildcard":"*/lib/*"}]}})", nullptr, true},
  {"wildcard middle", R"({"data":{"path":[{"wildcard":"/usr/*/libx.so"}]}})", nullptr, true},
  {"wildcard middle differs", R"({"data":{"path":[{"wildcard":"/usr/*/liby.so"}]}})", nullptr, false},
  {"wildcard star alone", R"({"data":{"path":[{"wildcard":"*"}]}})", nullptr, true},
  {"wildcard needs a string", R"({"data":{"amount":[{"wildcard":"*"}]}})", nullptr, false},
  {"wildcard without star is exact", R"({"data":{"path":[{"wildcard":"/usr/lib/libx.so"}]}})", nullptr, true},
  {"wildcard without star differs", R"({"data":{"path":[{"wildcard":"/usr/lib/libx.s"}]}})", nullptr, false},
  {"escaped star is literal", R"({"data":{"star":[{"wildcard":"a\\*b"}]}})", nullptr, true},
  {"escaped star is not a wildcard", R"({"data":{"star":[{"wildcard":"a\\*b"}]}})", R"({"data":{"star":"axb"}})", false},
  {"star matches a star", R"({"data":{"star":[{"wildcard":"a*b"}]}})", nullptr, true},
  {"wildcard inner star", R"({"data":{"region":[{"wildcard":"us-*-1"}]}})", nullptr, true},
  {"wildcard inner star differs", R"({"data":{"region":[{"wildcard":"us-*-2"}]}})", nullptr, false},
  {"wildcard many stars", R"({"data":{"region":[{"wildcard":"*-*-*"}]}})", nullptr, true},
  {"wildcard too many parts", R"({"data":{"region":[{"wildcard":"*-*-*-*"}]}})", nullptr, false},
  {"wildcard overlapping parts", R"({"data":{"w":[{"wildcard":"a*a*a"}]}})", R"({"data":{"w":"aaa"}})", true},
  {"wildcard parts may not overlap", R"({"data":{"w":[{"wildcard":"a*a*a"}]}})", R"({"data":{"w":"aa"}})", false},
  {"wildcard backtracking", R"({"data":{"w":[{"wildcard":"*ab*d"}]}})", R"({"data":{"w":"abcabd"}})", true},
  {"escaped backslash", R"({"data":{"w":[{"wildcard":"\\\\"}]}})", R"({"data":{"w":"\\"}})", true},
  {"wildcard on array element", R"({"data":{"tags":[{"wildcard":"r*"}]}})", nullptr, true},

  // cidr.
  {"cidr /24", R"({"data":{"ip":[{"cidr":"10.0.0.0/24"}]}})", nullptr, true},
  {"cidr other /24", R"({"data":{"ip":[{"cidr":"10.0.1.0/24"}]}})", nullptr, false},
  {"cidr /27 upper block", R"({"data":{"ip":[{"cidr":"10.0.0.32/27"}]}})", nullptr, true},
  {"cidr /27 lower block", R"({"data":{"ip":[{"cidr":"10.0.0.0/27"}]}})", nullptr, false},
  {"cidr /0", R"({"data":{"ip":[{"cidr":"0.0.0.0/0"}]}})", nullptr, true},
  {"cidr /32", R"({"data":{"ip":[{"cidr":"10.0.0.33/32"}]}})", nullptr, true},
  {"cidr host bits ignored", R"({"data":{"ip":[{"cidr":"10.0.0.5/24"}]}})", nullptr, true},
  {"cidr IPv6", R"({"data":{"ip6":[{"cidr":"2001:db8::/32"}]}})", nullptr, true},
  {"cidr IPv6 differs", R"({"data":{"ip6":[{"cidr":"2001:db9::/32"}]}})", nullptr, false},
  {"IPv4 value, IPv6 block", R"({"data":{"ip":[{"cidr":"2001:db8::/32"}]}})", nullptr, false},
  {"IPv6 value, IPv4 block", R"({"data":{"ip6":[{"cidr":"10.0.0.0/8"}]}})", nullptr, false},
  {"cidr on non-address", R"({"data":{"state":[{"cidr":"10.0.0.0/8"}]}})", nullptr, false},
  {"IPv4-mapped IPv6 value", R"({"data":{"ip":[{"cidr":"10.0.0.0/24"}]}})", R"({"data":{"ip":"::ffff:10.0.0.7"}})", true},
  {"either cidr", R"({"data":{"ip":[{"cidr":"192.168.0.0/16"},{"cidr":"10.0.0.0/8"}]}})", nullptr, true},
  {"cidr IPv6 /0", R"({"data":{"ip6":[{"cidr":"::/0"}]}})", nullptr, true},
  {"cidr on number", R"({"data":{"amount":[{"cidr":"0.0.0.0/0"}]}})", nullptr, false},

  // $or.
  {"$or first", R"({"$or":[{"type":["order.created"]},{"type":["x"]}]})", nullptr, true},
  {"$or none", R"({"$or":[{"type":["y"]},{"type":["x"]}]})", nullptr, false},
  {"and with $or", R"({"source":["/shop/orders"],"$or":[{"data":{"state":["stopped"]}},{"data":{"amount":[300]}}]})", nullptr, true},
  {"and fails with $or", R"({"source":["/other"],"$or":[{"type":["order.created"]},{"tenant":["acme"]}]})", nullptr, false},
  {"$or inside data", R"({"data":{"$or":[{"state":["x"]},{"region":[{"prefix":"us"}]}]}})", nullptr, true},
  {"parallel $or", R"({"$or":[{"type":["x"]},{"tenant":["acme"]}],"data":{"$or":[{"state":["running"]},{"amount":[1]}]}})", nullptr, true},
  {"parallel $or, one fails", R"({"$or":[{"type":["x"]},{"tenant":["acme"]}],"data":{"$or":[{"state":["y"]},{"amount":[1]}]}})", nullptr, false},
  {"nested $or", R"({"$or":[{"type":["x"]},{"tenant":["acme"],"$or":[{"id":["nope"]},{"data":{"flag":[true]}}]}]})", nullptr, true},
  {"$or of exists, none", R"({"$or":[{"data":{"missing":[{"exists":true}]}},{"data":{"state":[{"exists":false}]}}]})", nullptr, false},
  {"$or with absent", R"({"$or":[{"data":{"missing":[{"exists":false}]}},{"type":["x"]}]})", nullptr, true},
  {"$or keeps elements bound", R"({"data":{"items":{"sku":["A"]}},"$or":[{"data":{"items":{"qty":[5]}}},{"type":["x"]}]})", nullptr, false},
  {"$or with bound elements", R"({"data":{"items":{"sku":["B"]}},"$or":[{"data":{"items":{"qty":[5]}}},{"type":["x"]}]})", nullptr, true},
  {"$or with numeric and prefix", R"({"$or":[{"data":{"amount":[{"numeric":["<",10]}]}},{"source":[{"prefix":"/shop/"}]}]})", nullptr, true},
  {"$or three ways, last", R"({"$or":[{"type":["a"]},{"type":["b"]},{"data":{"ip":[{"cidr":"10.0.0.0/8"}]}}]})", nullptr, true},

  // Combinations.
  {"documented complex example", R"({"time":[{"prefix":"2017-10-02"}],"data":{"state":[{"anything-but":"initializing"}],"count":[{"numeric":[">=",0,"<=",5]}],"price":[{"numeric":["<",20]}],"amount":[{"anything-but":[100,200]}],"ip":[{"cidr":"10.0.0.0/8"}]}})", nullptr, true},
  {"complex example, one excluded", R"({"time":[{"prefix":"2017-10-02"}],"data":{"state":[{"anything-but":"initializing"}],"count":[{"numeric":[">=",0,"<=",5]}],"price":[{"numeric":["<",20]}],"amount":[{"anything-but":[300]}],"ip":[{"cidr":"10.0.0.0/8"}]}})", nullptr, false},
  {"prefix, suffix and nested list", R"({"type":[{"prefix":"order."}],"subject":[{"suffix":".png"}],"data":{"customer":{"tier":["gold","platinum"]}}})", nullptr, true},
  {"anything-but excluding every element", R"({"type":["order.created"],"data":{"tags":[{"anything-but":["red","blue"]}]}})", nullptr, false},
  {"anything-but number on mixed array", R"({"type":["order.created"],"data":{"mixed":[{"anything-but":[1]}]}})", nullptr, true},
  {"prefix and range in one element", R"({"data":{"items":{"sku":[{"prefix":"B"}],"qty":[{"numeric":[">",4]}]}}})", nullptr, true},
  {"prefix and range in different elements", R"({"data":{"items":{"sku":[{"prefix":"A"}],"qty":[{"numeric":[">",4]}]}}})", nullptr, false},
  {"absent and ignore case", R"({"data":{"customer":{"email":[{"exists":false}],"tier":[{"equals-ignore-case":"GOLD"}]}}})", nullptr, true},
  {"wildcard or cidr", R"({"data":{"region":[{"wildcard":"us-*"},{"cidr":"10.0.0.0/8"}],"ip":[{"wildcard":"10.*"}]}})", nullptr, true},
  {"literals together", R"({"specversion":["1.0"],"data":{"flag":[true],"off":[false],"nothing":[null]}})", nullptr, true},
  {"every kind in one list", R"({"data":{"state":["x",1,true,null,{"prefix":"q"},{"suffix":"q"},{"equals-ignore-case":"q"},{"wildcard":"q*"},{"numeric":[">",0]},{"cidr":"1.0.0.0/8"},{"anything-but":"running"}]}})", nullptr, false},
  {"every kind in one list, one holds", R"({"data":{"state":["x",1,true,null,{"prefix":"q"},{"suffix":"ing"},{"equals-ignore-case":"q"},{"wildcard":"q*"},{"numeric":[">",0]},{"cidr":"1.0.0.0/8"},{"anything-but":"running"}]}})", nullptr, true},

  // Numbers beyond 64-bit integers or the double range are valid JSON: they are read as the
  // nearest double and do not stop the rest of the event from matching.
  {"huge integer elsewhere", R"({"data":{"state":["running"]}})", R"({"data":{"state":"running","n":123456789012345678901234567890}})", true},
  {"huge integer compares by value", R"({"data":{"n":[{"numeric":[">",1e29,"<",2e29]}]}})", R"({"data":{"n":123456789012345678901234567890}})", true},
  {"huge integer equals its double", R"({"data":{"n":[123456789012345678901234567890]}})", R"({"data":{"n":1.2345678901234568e29}})", true},
  {"exponent beyond double range", R"({"data":{"n":[{"numeric":[">",1e300]}]}})", R"({"data":{"n":1e400}})", true},
  {"negative exponent beyond range", R"({"data":{"n":[{"numeric":["<",-1e300]}]}})", R"({"data":{"n":-1e400}})", true},

  // Events that are not JSON objects match nothing.
  {"event is an array", R"({"type":[{"exists":false}]})", R"([1,2])", false},
  {"event is not JSON", R"({"type":[{"exists":false}]})", R"({"type":)", false},
  {"empty event object", R"({"type":[{"exists":false}]})", R"({})", true},
};
// clang-format on

constexpr size_t kCaseCount = sizeof(kCases) / sizeof(kCases[0]);
static_assert(kCaseCount >= 200, "the conformance table must hold at least 200 cases");

std::string event_of(const Case& c) { return c.event ? c.event : kE; }

TEST(Conformance, ReferenceInterpreterAgreesWithTable) {
  for (const Case& c : kCases) {
    auto p = compile_pattern(c.pattern);
    ASSERT_TRUE(p.ok()) << c.name << ": " << p.error().message;
    EXPECT_EQ(matches(*p, event_of(c)), c.match) << c.name << "\n  pattern " << c.pattern;
  }
}

TEST(Conformance, ExplainAgreesWithTableAndSaysWhy) {
  for (const Case& c : kCases) {
    auto p = compile_pattern(c.pattern);
    ASSERT_TRUE(p.ok()) << c.name;
    Explanation e = explain(*p, event_of(c));
    EXPECT_EQ(e.match, c.match) << c.name;
    if (!c.match) {
      EXPECT_FALSE(e.mismatches.empty()) << c.name;
      bool names_a_path = e.message.rfind("$", 0) == 0 || e.message.rfind("none of the pattern's", 0) == 0;
      EXPECT_TRUE(names_a_path) << c.name << ": " << e.message;
    }
  }
}

TEST(Conformance, SingleRuleMatcherAgreesWithTable) {
  std::vector<uint64_t> out;
  for (const Case& c : kCases) {
    auto p = compile_pattern(c.pattern);
    ASSERT_TRUE(p.ok()) << c.name;
    Matcher m;
    ASSERT_TRUE(m.add(7, *p).ok());
    m.match(event_of(c), out);
    EXPECT_EQ(out == std::vector<uint64_t>{7}, c.match) << c.name << "\n  pattern " << c.pattern;
  }
}

TEST(Conformance, OneMatcherHoldingTheWholeTableAgreesWithReference) {
  Matcher m;
  std::vector<Pattern> patterns;
  for (size_t i = 0; i < kCaseCount; ++i) {
    auto p = compile_pattern(kCases[i].pattern);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(m.add(i, *p).ok());
    patterns.push_back(*p);
  }
  std::vector<uint64_t> out;
  for (size_t i = 0; i < kCaseCount; ++i) {
    std::string event = event_of(kCases[i]);
    m.match(event, out);
    EXPECT_EQ(std::binary_search(out.begin(), out.end(), i), kCases[i].match) << kCases[i].name;
    std::vector<uint64_t> expected;
    for (size_t j = 0; j < kCaseCount; ++j) {
      if (matches(patterns[j], event)) expected.push_back(j);
    }
    EXPECT_EQ(out, expected) << "event of case " << kCases[i].name;
  }
}

}  // namespace
}  // namespace eddy::rules
