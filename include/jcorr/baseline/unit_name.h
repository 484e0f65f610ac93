// Unit names as systemd understands them: validity, templates and instances, the
// drop-in directories a unit reads, and which service a timer starts.
//
// All functions are pure string operations.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jcorr::baseline {

// True for a name systemd accepts as a unit file name: a known type suffix, a
// non-empty prefix, at most one '@', only [A-Za-z0-9:_.\-@] and at most 255 bytes.
// Hidden names (".x.timer") are rejected, as systemd skips them.
bool is_valid_unit_name(std::string_view name);

// Returns the type suffix without the dot ("timer"), or an empty view.
std::string_view unit_type(std::string_view name);

// True for "foo@.timer".
bool is_template(std::string_view name);

// True for "foo@bar.timer".
bool is_instance(std::string_view name);

// Returns the template of an instance ("foo@bar.timer" -> "foo@.timer"); other names
// are returned unchanged.
std::string template_of(std::string_view name);

// Returns the names X whose "X.d/" directories hold drop-ins for name, in systemd's
// order for one search directory: the name itself, its template, then the dash
// prefixes ("foo-bar-baz.service" -> "foo-bar-.service", "foo-.service"). The
// type-wide directory ("service.d") is not included: systemd reads it last, after
// every search directory.
std::vector<std::string> dropin_names(std::string_view name);

// Returns the service a timer starts: the Unit= value with name specifiers expanded
// when it is set, else the timer's name with ".service" ("foo@bar.timer" ->
// "foo@bar.service").
std::string paired_service_name(std::string_view timer_name, std::string_view unit_setting);

}  // namespace jcorr::baseline
