//! The AWS provider, on the official SDK: its credential chain (environment, profiles including
//! IAM Identity Center profiles, web identity, containers, instance roles), its SigV4 signing
//! and its JSON 1.1 wire protocol. Nothing here re-implements any of that.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_ssoadmin::Client;
use aws_sdk_ssoadmin::config::Region;
use aws_sdk_ssoadmin::config::http::HttpResponse;
use aws_sdk_ssoadmin::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssoadmin::operation::RequestId;
use aws_sdk_ssoadmin::types::{OperationStatusFilter, StatusValues};
use chrono::{DateTime, TimeZone, Utc};

use super::{AccountPage, ErrorKind, Provider, ProviderError, ProviderInfo};
use crate::model::{
    Described, Instance, NameKind, OperationKind, Page, RequestDetail, Status, StatusSummary,
};
use crate::sanitize::{clean_opt, clean_text};

/// Longest cause quoted from an error chain: enough to say what happened, short enough for
/// one line.
const MAX_CAUSE_CHARS: usize = 300;

/// Largest page the service allows.
const PAGE_SIZE: i32 = 100;

/// Where and how to connect.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Static credentials instead of the default chain (the demo's dummy keys, tests).
    pub static_credentials: Option<(String, String)>,
}

pub struct AwsProvider {
    client: Client,
    /// Identity Store, for user and group names: same region and endpoint as SSO Admin.
    identity_store: aws_sdk_identitystore::Client,
    /// Organizations, for account names: a global service with its own region.
    organizations: aws_sdk_organizations::Client,
    info: ProviderInfo,
}

/// The region Organizations' global endpoint signs for: us-east-1 in the aws partition, and
/// the partition's own home region elsewhere (the SDK's endpoint rules then pick the host).
pub fn organizations_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "cn-northwest-1"
    } else if region.starts_with("us-gov-") {
        "us-gov-west-1"
    } else {
        "us-east-1"
    }
}

impl AwsProvider {
    /// Loads the SDK configuration. Retries are off (one HTTP request per call): the poller
    /// owns retries and the API budget.
    pub async fn new(options: AwsOptions) -> Result<AwsProvider, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(super::CALL_TIMEOUT)
                    .operation_timeout(super::CALL_TIMEOUT)
                    .build(),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &options.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some((access_key, secret_key)) = &options.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                access_key,
                secret_key,
                None,
                None,
                "ssowatch-static",
            ));
        }
        let config = loader.load().await;
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err(
                ProviderError::new(ErrorKind::Config, "no AWS region is configured")
                    .with_hint("pass --region, set AWS_REGION, or set region in the profile"),
            );
        };
        // An explicit --endpoint-url (the emulator, a proxy) serves all three services; the
        // shared config carries it to each client.
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&config)
                .region(Region::new(organizations_region(&region)))
                .build(),
        );
        Ok(AwsProvider {
            client: Client::new(&config),
            identity_store: aws_sdk_identitystore::Client::new(&config),
            organizations,
            info: ProviderInfo {
                name: "aws".into(),
                profile: options.profile.clone(),
                region: Some(region),
                endpoint: options.endpoint_url.clone(),
            },
        })
    }

    fn error<E>(&self, err: SdkError<E, HttpResponse>) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        map_sdk_error(err, self.info.profile.as_deref())
    }
}

fn to_utc(t: Option<&aws_smithy_types::DateTime>) -> Result<DateTime<Utc>, ProviderError> {
    let t = t.ok_or_else(|| {
        ProviderError::new(ErrorKind::Malformed, "a status record has no CreatedDate")
    })?;
    // The wire carries epoch seconds as a JSON float, and a float near 1.8e9 is only exact to
    // about a quarter of a microsecond: .462 arrives as .461999..., so round to the microsecond.
    let micros = (t.subsec_nanos() as i64 + 500) / 1000;
    Utc.timestamp_opt(t.secs(), 0)
        .single()
        .map(|base| base + chrono::Duration::microseconds(micros))
        .ok_or_else(|| ProviderError::new(ErrorKind::Malformed, "a CreatedDate is out of range"))
}

fn status_of(s: Option<&StatusValues>) -> Status {
    Status::from_wire(s.map_or("", |s| s.as_str()))
}

fn summary(
    kind: OperationKind,
    request_id: Option<&str>,
    status: Option<&StatusValues>,
    created: Option<&aws_smithy_types::DateTime>,
) -> Result<StatusSummary, ProviderError> {
    let request_id = clean_opt(request_id).ok_or_else(|| {
        ProviderError::new(ErrorKind::Malformed, "a status record has no RequestId")
    })?;
    Ok(StatusSummary {
        kind,
        request_id,
        status: status_of(status),
        created: to_utc(created)?,
    })
}

#[async_trait]
impl Provider for AwsProvider {
    fn info(&self) -> ProviderInfo {
        self.info.clone()
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        // A handful of instances at most; the bound only guards against a looping service.
        for _ in 0..100 {
            let page = self
                .client
                .list_instances()
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| self.error(e))?;
            for i in page.instances() {
                if let Some(id) = clean_opt(i.instance_arn()) {
                    out.push(Instance {
                        id,
                        identity_store_id: clean_opt(i.identity_store_id()),
                        name: clean_opt(i.name()),
                    });
                }
            }
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn list_page(
        &self,
        instance: &str,
        kind: OperationKind,
        status: Option<&Status>,
        page_token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let filter = status.map(|s| {
            OperationStatusFilter::builder()
                .status(StatusValues::from(s.as_wire()))
                .build()
        });
        let token = page_token.map(str::to_string);
        // The three list operations have the same shape but distinct SDK types.
        macro_rules! list {
            ($operation:ident, $field:ident) => {{
                let out = self
                    .client
                    .$operation()
                    .instance_arn(instance)
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .set_filter(filter)
                    .send()
                    .await
                    .map_err(|e| self.error(e))?;
                let items = out
                    .$field()
                    .iter()
                    .map(|m| summary(kind, m.request_id(), m.status(), m.created_date()))
                    .collect::<Result<Vec<_>, _>>()?;
                (items, out.next_token().map(str::to_string))
            }};
        }
        let (items, next) = match kind {
            OperationKind::AssignmentCreation => list!(
                list_account_assignment_creation_status,
                account_assignments_creation_status
            ),
            OperationKind::AssignmentDeletion => list!(
                list_account_assignment_deletion_status,
                account_assignments_deletion_status
            ),
            OperationKind::PermissionSetProvisioning => list!(
                list_permission_set_provisioning_status,
                permission_sets_provisioning_status
            ),
        };
        Ok(Page {
            items,
            next_token: next.filter(|t| !t.is_empty()),
        })
    }

    async fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, ProviderError> {
        let missing = || {
            ProviderError::new(
                ErrorKind::Malformed,
                "the describe answer has no status object",
            )
        };
        let (summary, detail, source_call) = match kind {
            OperationKind::AssignmentCreation | OperationKind::AssignmentDeletion => {
                // Creation and deletion answers share a type but not an operation.
                macro_rules! describe {
                    ($operation:ident, $id_setter:ident, $field:ident, $name:literal) => {{
                        let out = self
                            .client
                            .$operation()
                            .instance_arn(instance)
                            .$id_setter(request_id)
                            .send()
                            .await
                            .map_err(|e| self.error(e))?;
                        (out.$field().cloned().ok_or_else(missing)?, $name)
                    }};
                }
                let (status, source) = if kind == OperationKind::AssignmentCreation {
                    describe!(
                        describe_account_assignment_creation_status,
                        account_assignment_creation_request_id,
                        account_assignment_creation_status,
                        "DescribeAccountAssignmentCreationStatus"
                    )
                } else {
                    describe!(
                        describe_account_assignment_deletion_status,
                        account_assignment_deletion_request_id,
                        account_assignment_deletion_status,
                        "DescribeAccountAssignmentDeletionStatus"
                    )
                };
                let summary = summary(
                    kind,
                    status.request_id().or(Some(request_id)),
                    status.status(),
                    status.created_date(),
                )?;
                let detail = RequestDetail {
                    failure_reason: clean_opt(status.failure_reason()),
                    target_account: clean_opt(status.target_id()),
                    target_type: clean_opt(status.target_type().map(|t| t.as_str())),
                    permission_set: clean_opt(status.permission_set_arn()),
                    principal_type: clean_opt(status.principal_type().map(|t| t.as_str())),
                    principal_id: clean_opt(status.principal_id()),
                    // Names come later, from the name resolver.
                    ..RequestDetail::default()
                };
                (summary, detail, source)
            }
            OperationKind::PermissionSetProvisioning => {
                let out = self
                    .client
                    .describe_permission_set_provisioning_status()
                    .instance_arn(instance)
                    .provision_permission_set_request_id(request_id)
                    .send()
                    .await
                    .map_err(|e| self.error(e))?;
                let status = out
                    .permission_set_provisioning_status()
                    .ok_or_else(missing)?;
                let summary = summary(
                    kind,
                    status.request_id().or(Some(request_id)),
                    status.status(),
                    status.created_date(),
                )?;
                let detail = RequestDetail {
                    failure_reason: clean_opt(status.failure_reason()),
                    target_account: clean_opt(status.account_id()),
                    permission_set: clean_opt(status.permission_set_arn()),
                    // Provisioning has no principal; names come later, from the name resolver.
                    ..RequestDetail::default()
                };
                (summary, detail, "DescribePermissionSetProvisioningStatus")
            }
        };
        Ok(Described {
            summary,
            detail,
            source_call: source_call.to_string(),
            described_at: Utc::now(),
        })
    }

    async fn permission_set_name(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Result<Option<String>, ProviderError> {
        let out = self
            .client
            .describe_permission_set()
            .instance_arn(instance)
            .permission_set_arn(permission_set)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(out.permission_set().and_then(|p| clean_opt(p.name())))
    }

    async fn principal_name(
        &self,
        identity_store: &str,
        kind: NameKind,
        principal: &str,
    ) -> Result<Option<String>, ProviderError> {
        match kind {
            NameKind::User => {
                let out = self
                    .identity_store
                    .describe_user()
                    .identity_store_id(identity_store)
                    .user_id(principal)
                    .send()
                    .await
                    .map_err(|e| self.error(e))?;
                Ok(clean_opt(out.user_name()).or_else(|| clean_opt(out.display_name())))
            }
            NameKind::Group => {
                let out = self
                    .identity_store
                    .describe_group()
                    .identity_store_id(identity_store)
                    .group_id(principal)
                    .send()
                    .await
                    .map_err(|e| self.error(e))?;
                Ok(clean_opt(out.display_name()))
            }
            NameKind::Account | NameKind::PermissionSet => Err(ProviderError::new(
                ErrorKind::Validation,
                format!("{kind:?} is not an identity-store principal"),
            )),
        }
    }

    async fn list_accounts_page(
        &self,
        page_token: Option<&str>,
    ) -> Result<AccountPage, ProviderError> {
        let out = self
            .organizations
            .list_accounts()
            .set_next_token(page_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        let accounts = out
            .accounts()
            .iter()
            .filter_map(|a| Some((clean_opt(a.id())?, clean_opt(a.name())?)))
            .collect();
        Ok(AccountPage {
            accounts,
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }

    async fn account_name(&self, account: &str) -> Result<Option<String>, ProviderError> {
        let out = self
            .organizations
            .describe_account()
            .account_id(account)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(out.account().and_then(|a| clean_opt(a.name())))
    }
}

/// Maps an SDK error to what the poller and the operator act on.
pub fn map_sdk_error<E>(err: SdkError<E, HttpResponse>, profile: Option<&str>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let request_id = err.request_id().map(str::to_string);
    let login_hint = || match profile {
        Some(p) => {
            format!("run: aws sso login --profile {p} (or refresh the profile's credentials)")
        }
        None => {
            "refresh your credentials (e.g. aws sso login --profile NAME) and retry".to_string()
        }
    };
    let mapped = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let Some(code) = e.code() else {
                // An answer without an error type: a 2xx that did not deserialize, or a
                // non-JSON error page from something in front of the service.
                return not_understood(service.raw().status().as_u16(), &err)
                    .with_request_id(request_id.map(|r| clean_text(&r)));
            };
            let message = e.message().unwrap_or("");
            let text = if message.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {message}")
            };
            match code {
                "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
                    ProviderError::new(ErrorKind::Throttled, text)
                }
                "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => {
                    ProviderError::new(ErrorKind::Auth, text).with_hint(login_hint())
                }
                "UnrecognizedClientException" | "InvalidSignatureException" | "InvalidClientTokenId"
                | "MissingAuthenticationTokenException" | "SignatureDoesNotMatch" => {
                    ProviderError::new(ErrorKind::Auth, text).with_hint(
                        "the credentials were not accepted: check the profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in again",
                    )
                }
                // Organizations' answer to a caller outside any organization: asking again
                // cannot help.
                "AWSOrganizationsNotInUseException" => ProviderError::new(ErrorKind::Config, text),
                "AccessDeniedException" => ProviderError::new(ErrorKind::Auth, text).with_hint(
                    "these credentials lack sso:List*/sso:Describe* permissions on this instance (see README)",
                ),
                "ResourceNotFoundException" | "AccountNotFoundException" => {
                    ProviderError::new(ErrorKind::NotFound, text)
                }
                "ValidationException" | "SerializationException" => {
                    ProviderError::new(ErrorKind::Validation, text).with_hint(super::VALIDATION_HINT)
                }
                "UnknownOperationException" | "InvalidAction" | "NotImplemented" => {
                    ProviderError::new(ErrorKind::Unsupported, text).with_hint(super::UNSUPPORTED_HINT)
                }
                _ if service.raw().status().as_u16() == 501 => {
                    ProviderError::new(ErrorKind::Unsupported, format!("HTTP 501: {text}"))
                        .with_hint(super::UNSUPPORTED_HINT)
                }
                "ConflictException" => ProviderError::new(ErrorKind::Conflict, text),
                _ if code.starts_with("InternalServer") || code == "ServiceUnavailable" => {
                    ProviderError::new(ErrorKind::Transient, text)
                }
                _ => ProviderError::new(ErrorKind::Transient, text),
            }
        }
        SdkError::TimeoutError(_) => {
            ProviderError::new(ErrorKind::Transient, "the request timed out")
        }
        // The head arrived but the body could not be read: the connection closed or broke
        // mid-answer. Nothing is wrong with the request, so trying again can work.
        SdkError::ResponseError(_) => ProviderError::new(
            ErrorKind::Transient,
            format!(
                "the connection closed before the whole answer arrived ({})",
                innermost(&err)
            ),
        ),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) | _ => {
            let text = DisplayErrorContext(&err).to_string();
            if text.contains("credential") || text.contains("token") {
                ProviderError::new(ErrorKind::Auth, format!("no usable AWS credentials: {}", innermost(&err)))
                    .with_hint(match profile {
                        Some(p) => format!("run: aws sso login --profile {p}, or check the profile in ~/.aws/config"),
                        None => "pass --profile NAME, set AWS_PROFILE, or configure credentials (aws configure / aws sso login)".to_string(),
                    })
            } else {
                ProviderError::new(
                    ErrorKind::Transient,
                    format!("cannot reach the service: {}", innermost(&err)),
                )
            }
        }
    };
    mapped.with_request_id(request_id.map(|r| clean_text(&r)))
}

/// An answer that is not the SSO Admin API's JSON. What it means depends on the HTTP status:
/// a 5xx page from a load balancer is a passing outage, a 404 page means the endpoint is not
/// the API at all, and a 2xx that does not parse is a malformed answer.
fn not_understood<E>(status: u16, err: &SdkError<E, HttpResponse>) -> ProviderError
where
    E: std::error::Error + Send + Sync + 'static,
{
    match status {
        501 => ProviderError::new(
            ErrorKind::Unsupported,
            "the endpoint answered HTTP 501 (not implemented)",
        )
        .with_hint(super::UNSUPPORTED_HINT),
        429 => ProviderError::new(
            ErrorKind::Throttled,
            "the endpoint answered HTTP 429 (too many requests)",
        ),
        500..=599 => ProviderError::new(
            ErrorKind::Transient,
            format!("the endpoint answered HTTP {status} with a page that is not the SSO Admin API's JSON (an outage in front of the service)"),
        ),
        404 => ProviderError::new(
            ErrorKind::Config,
            "the endpoint answered HTTP 404 with something that is not the SSO Admin API",
        )
        .with_hint("check --endpoint-url (it must be the sso.<region>.amazonaws.com endpoint or an ssowatch emulator)"),
        400..=499 => ProviderError::new(
            ErrorKind::Config,
            format!("the endpoint answered HTTP {status} with something that is not the SSO Admin API"),
        )
        .with_hint("check --endpoint-url and any proxy between ssowatch and the service"),
        _ => {
            // The parser's own list of expected tokens reads like a debug dump; keep what
            // went wrong and where.
            let cause = innermost(err);
            let cause = cause.split(". Expected").next().unwrap_or(&cause);
            ProviderError::new(
                ErrorKind::Malformed,
                format!("the answer (HTTP {status}) is not valid SSO Admin API JSON: {cause}"),
            )
        }
    }
}

/// The innermost cause of an error chain, which is what tells the operator something
/// ("Connection refused", "no providers in chain provided credentials"); the outer layers are
/// the SDK's plumbing, and their Debug forms must never reach the screen.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = clean_text(&current.to_string());
    match text.char_indices().nth(MAX_CAUSE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
