//! PLACEHOLDER until the pgwire server lands (signature only).
pub async fn serve(
    listener: tokio::net::TcpListener,
    client: crate::coord::Client,
) -> std::io::Result<()> {
    let _ = (listener, client);
    todo!()
}
