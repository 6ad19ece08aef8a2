// Its own module: the supervisor makes this key as sshd starts, without loading the SSH client.
/** The key the local stack generates and its sshd authorizes (SSH_KEYS_DIR/local-ed25519). */
export const LOCAL_SSH_KEY = 'local-ed25519';
