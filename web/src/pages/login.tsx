import { useState } from 'preact/hooks';
import { post } from '../api';

export function Login({ onDone }: { onDone: () => void }) {
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    try {
      await post('/api/auth/login', { username: f.get('username'), password: f.get('password') });
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} class="card">
        <h1>CityOps</h1>
        <p>
          Staff sign-in. The <a href="/public">public performance page</a> needs none.
        </p>
        <label>
          User name <input name="username" autocomplete="username" required />
        </label>
        <label>
          Password{' '}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
