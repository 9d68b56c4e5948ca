//! SSM parameter names: the single parameter, the fleet prefix, and SSM's
//! naming rules.

use super::env::{shown, Env};
use super::{config_err, ConfigError};

/// `TOKEN_PARAMETER_NAME`, checked against SSM's naming rules
/// (<https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html>).
pub(super) fn parameter_name<F: Fn(&str) -> Option<String>>(
    env: &Env<'_, F>,
) -> Result<String, ConfigError> {
    let name = env.required(
        "TOKEN_PARAMETER_NAME",
        "an SSM parameter name such as /spapi/lwa/access-token \
         (or TOKEN_PARAMETER_PREFIX for fleet mode)",
    )?;
    check_parameter_name(&name).map_err(|p| config_err("TOKEN_PARAMETER_NAME", p))?;
    Ok(name)
}

/// `TOKEN_PARAMETER_PREFIX`: a hierarchy that a profile name completes, e.g.
/// `/spapi/lwa/sellers/`.
pub(super) fn parameter_prefix<F: Fn(&str) -> Option<String>>(
    env: &Env<'_, F>,
) -> Result<String, ConfigError> {
    const VAR: &str = "TOKEN_PARAMETER_PREFIX";
    let prefix = env.required(
        VAR,
        "an SSM parameter path prefix such as /spapi/lwa/sellers/",
    )?;
    if !prefix.starts_with('/') {
        return Err(config_err(
            VAR,
            format!(
                "`{}` must start with /, e.g. /spapi/lwa/sellers/",
                shown(&prefix)
            ),
        ));
    }
    check_parameter_name(&format!("{prefix}profile")).map_err(|p| config_err(VAR, p))?;
    Ok(prefix)
}

/// Checks an SSM parameter name: letters, digits, `_ . - /`, at most 1011
/// characters, at most 15 levels, no `//`, not starting with `aws` or `ssm`.
pub fn check_parameter_name(name: &str) -> Result<(), String> {
    let expected = "expected an SSM parameter name of letters, digits and _ . - / such as /spapi/lwa/access-token";
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(format!(
            "`{}` contains {c:?}; {expected}",
            name.escape_default()
        ));
    }
    if name.len() > 1011 {
        return Err(format!(
            "is {} characters long; at most 1011 are allowed",
            name.len()
        ));
    }
    if name.contains("//") || (name.len() > 1 && name.ends_with('/')) || name == "/" {
        return Err(format!("`{name}` has an empty path segment; {expected}"));
    }
    if name.split('/').filter(|s| !s.is_empty()).count() > 15 {
        return Err(format!("`{name}` has more than 15 levels; SSM allows 15"));
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(format!(
            "`{name}` starts with aws or ssm, which SSM reserves; {expected}"
        ));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(format!(
            "`{name}` is a hierarchy and must start with /; {expected}"
        ));
    }
    Ok(())
}
