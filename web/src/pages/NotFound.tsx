import { Link } from 'react-router-dom';
import { Empty } from '../components/States';

export default function NotFound() {
  return (
    <Empty title="No such page">
      <p>
        <Link to="/">Back to the overview</Link>
      </p>
    </Empty>
  );
}
