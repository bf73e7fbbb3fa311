//! The headless commands, for scripts and for people without a TTY: `list` and `describe`.

use std::io::Write;

use anyhow::{Context, bail};

use crate::cli::{DescribeArgs, ListArgs};
use crate::config::Settings;
use crate::connect::connect;
use crate::model::{OperationKind, StatusSummary};
use crate::output;
use crate::provider::{ErrorKind, Provider, ProviderError, list_all, with_retry};

/// Every page of the asked kinds, merged, newest first.
pub async fn fetch_list(
    provider: &dyn Provider,
    instance: &str,
    args: &ListArgs,
) -> Result<Vec<StatusSummary>, ProviderError> {
    let status = args.status.map(|s| s.status());
    let mut rows = Vec::new();
    for kind in args.kind.kinds() {
        rows.extend(list_all(provider, instance, kind, status.as_ref(), |_| {}).await?);
    }
    // The service promises no order: sort client side.
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.request_id.cmp(&b.request_id))
    });
    Ok(rows)
}

pub async fn list(settings: &Settings, args: &ListArgs) -> anyhow::Result<()> {
    let connection = connect(settings).await?;
    let rows = fetch_list(connection.provider.as_ref(), &connection.instance.id, args).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    output::write_list(&mut out, &rows, args.output)
        .and_then(|()| out.flush())
        .context("cannot write the output")?;
    Ok(())
}

pub async fn describe(settings: &Settings, args: &DescribeArgs) -> anyhow::Result<()> {
    let connection = connect(settings).await?;
    let provider = connection.provider.as_ref();
    let instance = &connection.instance.id;
    let kinds = args
        .kind
        .map_or_else(|| OperationKind::ALL.to_vec(), |k| k.kinds());
    let mut last_error = None;
    for kind in kinds {
        match with_retry(|| provider.describe(instance, kind, &args.request_id)).await {
            Ok(mut described) => {
                if let Some(ps) = described.detail.permission_set.clone()
                    && let Ok(name) =
                        with_retry(|| provider.permission_set_name(instance, &ps)).await
                {
                    described.detail.permission_set_name = name;
                }
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                output::write_described(&mut out, &described, args.output)
                    .and_then(|()| out.flush())
                    .context("cannot write the output")?;
                return Ok(());
            }
            Err(e) if e.kind == ErrorKind::NotFound => last_error = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    match last_error {
        Some(_) => match args.kind {
            Some(kind) => bail!(
                "request {} was not found as a {} request (check the id, or try another --kind)",
                args.request_id,
                format!("{kind:?}").to_lowercase()
            ),
            None => bail!(
                "request {} was not found as any kind of request (check the id and the instance)",
                args.request_id
            ),
        },
        None => bail!("nothing to describe"),
    }
}
