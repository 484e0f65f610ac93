// Diagnostics: problems found in user input (rule files, lists, configuration), as
// data. Every loader reports all the problems it finds at once, each with where it is
// (origin file, JSON pointer, line:col when known, rule id) and a stable code that
// tests and tools can rely on. Codes live here, in one place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jcorr::core {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;     // stable, e.g. "rule.regex.invalid"
  std::string origin;   // file name, or "<inline>"
  std::string pointer;  // RFC 6901 JSON pointer into the origin, e.g. "/rules/0/events/ssh/where"
  std::uint32_t line = 0;  // 1-based; 0 when unknown
  std::uint32_t column = 0;
  std::string rule_id;  // empty when the problem is outside a rule
  std::string message;

  // "file:line:col: /pointer [rule] code: message" (parts that are unknown are left out).
  std::string to_string() const;
};

// True when any diagnostic is an error.
bool has_errors(const std::vector<Diagnostic>& diagnostics);

// Stable diagnostic codes.
namespace codes {
inline constexpr std::string_view kJsonSyntax = "rule.json.syntax";
inline constexpr std::string_view kKeyUnknown = "rule.key.unknown";
inline constexpr std::string_view kKeyMissing = "rule.key.missing";
inline constexpr std::string_view kTypeMismatch = "rule.type.mismatch";
inline constexpr std::string_view kValueInvalid = "rule.value.invalid";
inline constexpr std::string_view kIdInvalid = "rule.id.invalid";
inline constexpr std::string_view kIdDuplicate = "rule.id.duplicate";
inline constexpr std::string_view kRegexInvalid = "rule.regex.invalid";
inline constexpr std::string_view kRegexTooLarge = "rule.regex.too_large";
inline constexpr std::string_view kFieldInvalid = "rule.field.invalid";
inline constexpr std::string_view kFieldUnknown = "rule.field.unknown";
inline constexpr std::string_view kOperatorUnknown = "rule.operator.unknown";
inline constexpr std::string_view kDurationInvalid = "rule.duration.invalid";
inline constexpr std::string_view kEventUnknown = "rule.event.unknown";
inline constexpr std::string_view kEventUnused = "rule.event.unused";
inline constexpr std::string_view kStepUnknown = "rule.step.unknown";
inline constexpr std::string_view kStepDuplicate = "rule.step.duplicate";
inline constexpr std::string_view kStepOrder = "rule.step.order";
inline constexpr std::string_view kStepInvalid = "rule.step.invalid";
inline constexpr std::string_view kRefInvalid = "rule.ref.invalid";
inline constexpr std::string_view kRefUnknown = "rule.ref.unknown";
inline constexpr std::string_view kCaptureUnknown = "rule.capture.unknown";
inline constexpr std::string_view kListUnknown = "rule.list.unknown";
inline constexpr std::string_view kListDuplicate = "rule.list.duplicate";
inline constexpr std::string_view kListUnreadable = "rule.list.unreadable";
// A list needs a baseline and none was given: the list and the rules using it are left
// out (a warning, so that optional baseline rules can sit beside the others).
inline constexpr std::string_view kBaselineMissing = "rule.baseline.missing";
inline constexpr std::string_view kTemplateInvalid = "rule.template.invalid";
inline constexpr std::string_view kCorrelateInvalid = "rule.correlate.invalid";
inline constexpr std::string_view kRuleCycle = "rule.detections.cycle";
inline constexpr std::string_view kRuleUnknown = "rule.rule.unknown";
inline constexpr std::string_view kTestInvalid = "rule.test.invalid";
inline constexpr std::string_view kTooMany = "rule.diagnostics.capped";
// Warnings (lint).
inline constexpr std::string_view kUntrusted = "lint.event.untrusted";
inline constexpr std::string_view kFullScan = "lint.event.full_scan";
}  // namespace codes

}  // namespace jcorr::core
